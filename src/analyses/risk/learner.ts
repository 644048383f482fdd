import { z } from 'zod';
import { FlowgateError } from '../../core/errors.ts';
import { calibrate, fitCalibrator, type CalibrationMethod, type Calibrator } from './calibration.ts';
import { buildFeatureSpec, featureColumns, featureVector, specNames, type FeatureSpec } from './engineer.ts';
import { fitGbdt, gbdtContributions, gbdtMargin, type GbdtModel, type GbdtOptions } from './gbdt.ts';
import { fitLogistic, logisticContributions, logisticMargin, type LogisticModel, type LogisticOptions } from './logistic.ts';
import { auc } from './metrics.ts';
import type { FeatureRow } from './types.ts';

export interface RiskModelOptions {
  /** Share of the training rows, the latest ones, held out to stop boosting, choose the model and calibrate. */
  validationShare?: number;
  calibration?: CalibrationMethod;
  /** After choosing on the held-out slice, refit on all training rows (recent changes matter most). */
  refit?: boolean;
  /** Add ratio features (la/lt, la/nf, ...) to the base features. */
  derivedFeatures?: boolean;
  /** Tree-model weights tried for the blend of log-odds (0 = logistic only, 1 = trees only). */
  blendWeights?: number[];
  /** Also try trees boosted on top of the logistic model's log-odds. */
  boostedLogistic?: boolean;
  /**
   * Weight training changes by recency: a change this many months older counts half (null: equal
   * weights). A list is tried on the held-out slice and the best kept (default [null, 6, 12, 24]).
   */
  halfLifeMonths?: number | null | (number | null)[];
  seed?: number;
  gbdt?: GbdtOptions;
  logistic?: LogisticOptions;
}

/** How the held-out slice of the training data judged the candidates. */
export interface ValidationReport {
  rows: number;
  positives: number;
  from: number;
  to: number;
  /** AUC of each candidate shape at the chosen half-life, and of the chosen model. */
  auc: { logistic: number; gbdt: number; blend: number; boostedLogistic: number | null; chosen: number };
  gbdtRounds: number;
  /** The chosen recency half-life in months (null: equal weights). */
  halfLifeMonths: number | null;
}

/** What the model's log-odds are made of. */
export type ModelShape = 'logistic' | 'gbdt' | 'ensemble' | 'boosted-logistic';

/**
 * A fitted change-risk model: log-odds = logisticWeight * logistic + treeWeight * trees, then a
 * calibrator. For `boosted-logistic` the trees were fit on top of the logistic log-odds (both 1).
 */
export interface RiskModel {
  format: 'flowgate-risk-model';
  version: 1;
  spec: FeatureSpec;
  logistic: LogisticModel;
  gbdt: GbdtModel;
  logisticWeight: number;
  treeWeight: number;
  chosen: ModelShape;
  calibrator: Calibrator;
  training: { rows: number; positives: number; from: number; to: number };
  validation: ValidationReport;
}

/** A change's risk: the model's log-odds (for ranking) and the calibrated probability. */
export interface RiskScore {
  margin: number;
  probability: number;
}

/** One feature's part in a change's risk, in log-odds. */
export interface Contribution {
  feature: string;
  value: number;
  contribution: number;
}

const minRows = 40;
const minPositives = 5;
const month = 30.44 * 86_400;

function countPositives(rows: readonly FeatureRow[]): number {
  let n = 0;
  for (const r of rows) n += r.label;
  return n;
}

function requireEnough(rows: readonly FeatureRow[], what: string): void {
  const positives = countPositives(rows);
  if (rows.length < minRows || positives < minPositives || positives === rows.length) {
    throw new FlowgateError(
      'INSUFFICIENT_DATA',
      `The ${what} has ${rows.length} changes of which ${positives} defect-inducing; a risk model needs at least ${minRows} changes with ${minPositives} defect-inducing and some clean: mine more history or wait for more fixes.`,
      { details: { rows: rows.length, positives } },
    );
  }
}

/** Recency weights: 1 for the latest change, halving every `halfLifeMonths` before it. */
function recencyWeights(rows: readonly FeatureRow[], halfLifeMonths: number | null | undefined): Float64Array | undefined {
  if (halfLifeMonths === null || halfLifeMonths === undefined) return undefined;
  const last = rows[rows.length - 1]?.time ?? 0;
  return Float64Array.from(rows, (r) => 0.5 ** ((last - r.time) / (halfLifeMonths * month)));
}

interface Stage {
  spec: FeatureSpec;
  rows: readonly FeatureRow[];
  options: RiskModelOptions;
  gbdt: GbdtOptions;
  halfLifeMonths: number | null;
}

/** Fits the logistic model, and trees (standalone or on top of it) for a fixed number of rounds or with early stopping. */
function fitComponents(stage: Stage, shape: 'plain' | 'boosted', rounds: number | null, validation?: readonly FeatureRow[], prefit?: LogisticModel) {
  const { spec, rows, options } = stage;
  const columns = featureColumns(spec, rows);
  const labels = Uint8Array.from(rows, (r) => r.label);
  const weights = recencyWeights(rows, stage.halfLifeMonths);
  const logistic = prefit ?? fitLogistic(columns, labels, options.logistic, weights);
  const lrMargins = (rs: readonly FeatureRow[]) => rs.map((r) => logisticMargin(logistic, featureVector(spec, r.features)));
  const offsets = shape === 'boosted' ? lrMargins(rows) : undefined;
  const val =
    validation === undefined
      ? undefined
      : { columns: featureColumns(spec, validation), labels: Uint8Array.from(validation, (r) => r.label), ...(shape === 'boosted' ? { offsets: lrMargins(validation) } : {}) };
  const gbdt = fitGbdt(
    { columns, labels, ...(weights === undefined ? {} : { weights }), ...(offsets === undefined ? {} : { offsets }) },
    rounds === null ? stage.gbdt : { ...stage.gbdt, rounds: Math.max(rounds, 1) },
    val,
  );
  return { logistic, gbdt };
}

/**
 * Fits a change-risk model on training rows (labels as known at the training cutoff). The latest
 * `validationShare` of them stops boosting, picks among logistic, trees, their blends and trees
 * boosted on the logistic model by AUC, and fits the calibrator; then the chosen shape is refit on
 * all rows. Deterministic for a given seed.
 */
export function fitRiskModel(rows: readonly FeatureRow[], options: RiskModelOptions = {}): RiskModel {
  const validationShare = options.validationShare ?? 0.2;
  const sorted = [...rows].sort((a, b) => a.time - b.time);
  const cut = Math.floor(sorted.length * (1 - validationShare));
  const fitRows = sorted.slice(0, cut);
  const valRows = sorted.slice(cut);
  requireEnough(fitRows, 'training period before the held-out slice');
  requireEnough(valRows, 'held-out (latest) slice of the training period');
  const spec = buildFeatureSpec(sorted, options.derivedFeatures ?? true);
  const valLabels = Uint8Array.from(valRows, (r) => r.label);
  const valX = valRows.map((r) => featureVector(spec, r.features));
  type Candidate = { shape: ModelShape; halfLifeMonths: number | null; logisticWeight: number; treeWeight: number; auc: number; margins: number[]; rounds: number };
  const tried: { halfLifeMonths: number | null; candidates: Candidate[]; lrVal: number[]; gbVal: number[] }[] = [];
  const halfLives = options.halfLifeMonths === undefined ? [null, 6, 12, 24] : Array.isArray(options.halfLifeMonths) ? options.halfLifeMonths : [options.halfLifeMonths];
  for (const halfLifeMonths of halfLives) {
    const stage: Stage = { spec, rows: fitRows, options, gbdt: { seed: options.seed ?? 1, ...options.gbdt }, halfLifeMonths };
    const plain = fitComponents(stage, 'plain', null, valRows);
    const lrVal = valX.map((x) => logisticMargin(plain.logistic, x));
    const gbVal = valX.map((x) => gbdtMargin(plain.gbdt.model, x));
    const candidates: Candidate[] = [];
    for (const w of options.blendWeights ?? [0, 0.25, 0.5, 0.75, 1]) {
      const margins = lrVal.map((m, i) => (1 - w) * m + w * (gbVal[i] ?? 0));
      candidates.push({ shape: w === 0 ? 'logistic' : w === 1 ? 'gbdt' : 'ensemble', halfLifeMonths, logisticWeight: 1 - w, treeWeight: w, auc: auc(margins, valLabels), margins, rounds: plain.gbdt.rounds });
    }
    if (options.boostedLogistic ?? true) {
      const boosted = fitComponents(stage, 'boosted', null, valRows, plain.logistic);
      const margins = valX.map((x) => logisticMargin(boosted.logistic, x) + gbdtMargin(boosted.gbdt.model, x));
      candidates.push({ shape: 'boosted-logistic', halfLifeMonths, logisticWeight: 1, treeWeight: 1, auc: auc(margins, valLabels), margins, rounds: boosted.gbdt.rounds });
    }
    tried.push({ halfLifeMonths, candidates, lrVal, gbVal });
  }
  // The first best wins, so ties go to equal weights and to the simpler shape listed first.
  const best = tried.flatMap((t) => t.candidates).reduce((a, b) => (b.auc > a.auc + 1e-12 ? b : a));
  const chosenRun = tried.find((t) => t.halfLifeMonths === best.halfLifeMonths) ?? tried[0];
  if (chosenRun === undefined) throw new FlowgateError('USAGE', 'halfLifeMonths is an empty list: give at least one half-life (or null).');
  const calibrator = fitCalibrator(options.calibration ?? 'isotonic', best.margins, valLabels);
  const shapeAuc = (shape: ModelShape): number => {
    const aucs = chosenRun.candidates.filter((c) => c.shape === shape).map((c) => c.auc);
    return aucs.length === 0 ? Number.NaN : Math.max(...aucs);
  };
  const stage: Stage = { spec, rows: fitRows, options, gbdt: { seed: options.seed ?? 1, ...options.gbdt }, halfLifeMonths: best.halfLifeMonths };

  const shape = best.shape === 'boosted-logistic' ? 'boosted' : 'plain';
  const final = fitComponents(options.refit ?? true ? { ...stage, rows: sorted } : stage, shape, best.rounds);
  return {
    format: 'flowgate-risk-model',
    version: 1,
    spec,
    logistic: final.logistic,
    gbdt: final.gbdt.model,
    logisticWeight: best.logisticWeight,
    treeWeight: best.treeWeight,
    chosen: best.shape,
    calibrator,
    training: { rows: sorted.length, positives: countPositives(sorted), from: sorted[0]?.time ?? 0, to: sorted[sorted.length - 1]?.time ?? 0 },
    validation: {
      rows: valRows.length,
      positives: countPositives(valRows),
      from: valRows[0]?.time ?? 0,
      to: valRows[valRows.length - 1]?.time ?? 0,
      auc: {
        logistic: shapeAuc('logistic'),
        gbdt: shapeAuc('gbdt'),
        blend: shapeAuc('ensemble'),
        boostedLogistic: options.boostedLogistic ?? true ? shapeAuc('boosted-logistic') : null,
        chosen: best.auc,
      },
      gbdtRounds: best.rounds,
      halfLifeMonths: best.halfLifeMonths,
    },
  };
}

/** The component log-odds of one change: logistic, trees and the blend. */
export function componentMargins(model: RiskModel, features: Record<string, number>): { logistic: number; gbdt: number; blend: number } {
  const x = featureVector(model.spec, features);
  const lr = logisticMargin(model.logistic, x);
  const gb = gbdtMargin(model.gbdt, x);
  return { logistic: lr, gbdt: gb, blend: model.logisticWeight * lr + model.treeWeight * gb };
}

/** One change's risk: blended log-odds and calibrated probability. */
export function predictRisk(model: RiskModel, row: Pick<FeatureRow, 'features'>): RiskScore {
  const margin = componentMargins(model, row.features).blend;
  return { margin, probability: calibrate(model.calibrator, margin) };
}

/**
 * Why a change got its risk: each input's contribution to the blended log-odds (logistic:
 * coef * standardised value; trees: Saabas path attribution), largest magnitude first.
 */
export function explainRisk(model: RiskModel, row: Pick<FeatureRow, 'features'>): Contribution[] {
  const x = featureVector(model.spec, row.features);
  const names = specNames(model.spec);
  const lr = logisticContributions(model.logistic, x);
  const gb = gbdtContributions(model.gbdt, x, names.length).contributions;
  return names
    .map((feature, j) => ({ feature, value: x[j] ?? 0, contribution: model.logisticWeight * (lr[j] ?? 0) + model.treeWeight * (gb[j] ?? 0) }))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.feature.localeCompare(b.feature));
}

/** The model as JSON text, for storing; numbers round-trip exactly. */
export function serializeModel(model: RiskModel): string {
  return JSON.stringify(model);
}

const numbers = z.array(z.number());
const treeSchema = z.object({ feature: numbers, threshold: numbers, left: numbers, right: numbers, value: numbers });
// Lenient on purpose: stored models come from outside this process; only what prediction reads is checked.
const RiskModelJson = z.looseObject({
  format: z.literal('flowgate-risk-model'),
  version: z.literal(1),
  spec: z.object({ base: z.array(z.string()), derived: z.array(z.string()) }),
  logistic: z.object({ kind: z.literal('logistic'), mean: numbers, sd: numbers, coef: numbers, intercept: z.number() }),
  gbdt: z.object({ kind: z.literal('gbdt'), base: z.number(), trees: z.array(treeSchema) }),
  logisticWeight: z.number(),
  treeWeight: z.number(),
  chosen: z.enum(['logistic', 'gbdt', 'ensemble', 'boosted-logistic']),
  calibrator: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('isotonic'), x: numbers, y: numbers }),
    z.object({ kind: z.literal('platt'), a: z.number(), b: z.number() }),
    z.object({ kind: z.literal('sigmoid') }),
  ]),
});

/** Reads a model written by serializeModel; a damaged or foreign one is a clear error. */
export function deserializeModel(json: string): RiskModel {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw new FlowgateError('CONFIG_INVALID', 'The stored risk model is not valid JSON: retrain the model.', { cause });
  }
  const parsed = RiskModelJson.safeParse(value);
  if (!parsed.success) {
    throw new FlowgateError('CONFIG_INVALID', `The stored risk model does not match the expected format (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''}): retrain the model.`, { cause: parsed.error });
  }
  const width = parsed.data.spec.base.length + parsed.data.spec.derived.length;
  if (parsed.data.logistic.coef.length !== width) throw new FlowgateError('CONFIG_INVALID', 'The stored risk model is inconsistent (coefficients do not match its features): retrain the model.');
  return value as RiskModel;
}
