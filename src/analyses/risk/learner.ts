import { z } from 'zod';
import { FlowgateError } from '../../core/errors.ts';
import { calibrate, fitCalibrator, type CalibrationMethod, type Calibrator } from './calibration.ts';
import { buildFeatureSpec, featureColumns, featureVector, specNames, type FeatureSpec } from './engineer.ts';
import { fitGbdt, gbdtContributions, gbdtMargin, type GbdtModel, type GbdtOptions } from './gbdt.ts';
import { fitLogistic, logisticContributions, logisticMargin, type LogisticModel, type LogisticOptions } from './logistic.ts';
import { auc } from './metrics.ts';
import type { FeatureRow } from './types.ts';

export interface RiskModelOptions {
  /** Share of the training rows, the latest ones, held out to stop boosting, choose the blend and calibrate. */
  validationShare?: number;
  calibration?: CalibrationMethod;
  /** After choosing on the held-out slice, refit on all training rows (recent changes matter most). */
  refit?: boolean;
  /** Add ratio features (la/lt, la/nf, ...) to the base features. */
  derivedFeatures?: boolean;
  /** Tree-model weights tried for the blend of log-odds (0 = logistic only, 1 = trees only). */
  blendWeights?: number[];
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
  auc: { logistic: number; gbdt: number; blend: number };
  gbdtRounds: number;
}

/** A fitted change-risk model: logistic and tree components, their blend and a calibrator. */
export interface RiskModel {
  format: 'flowgate-risk-model';
  version: 1;
  spec: FeatureSpec;
  logistic: LogisticModel;
  gbdt: GbdtModel;
  /** Weight of the tree model's log-odds in the blend. */
  treeWeight: number;
  chosen: 'logistic' | 'gbdt' | 'ensemble';
  calibrator: Calibrator;
  training: { rows: number; positives: number; from: number; to: number };
  validation: ValidationReport;
}

/** A change's risk: the blended log-odds (for ranking) and the calibrated probability. */
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

/** The log-odds of the blend for given component margins. */
function blend(treeWeight: number, lr: number, gb: number): number {
  return treeWeight * gb + (1 - treeWeight) * lr;
}

/**
 * Fits a change-risk model on training rows (labels as known at the training cutoff). The latest
 * `validationShare` of them stops boosting, picks the logistic/tree blend by AUC and fits the
 * calibrator; then both components are refit on all rows. Deterministic for a given seed.
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
  const gbdtOptions: GbdtOptions = { seed: options.seed ?? 1, ...options.gbdt };
  const fitCols = featureColumns(spec, fitRows);
  const valCols = featureColumns(spec, valRows);
  const fitLabels = Uint8Array.from(fitRows, (r) => r.label);
  const valLabels = Uint8Array.from(valRows, (r) => r.label);

  const lr = fitLogistic(fitCols, fitLabels, options.logistic);
  const gb = fitGbdt(fitCols, fitLabels, gbdtOptions, { columns: valCols, labels: valLabels });
  const lrVal = valRows.map((r) => logisticMargin(lr, featureVector(spec, r.features)));
  const gbVal = valRows.map((r) => gbdtMargin(gb.model, featureVector(spec, r.features)));
  let treeWeight = 0;
  let bestAuc = -1;
  for (const w of options.blendWeights ?? [0, 0.25, 0.5, 0.75, 1]) {
    const a = auc(lrVal.map((m, i) => blend(w, m, gbVal[i] ?? 0)), valLabels);
    if (a > bestAuc + 1e-12) {
      bestAuc = a;
      treeWeight = w;
    }
  }
  const blendVal = lrVal.map((m, i) => blend(treeWeight, m, gbVal[i] ?? 0));
  const calibrator = fitCalibrator(options.calibration ?? 'isotonic', blendVal, valLabels);

  let logistic = lr;
  let gbdt = gb.model;
  if (options.refit ?? true) {
    const allCols = featureColumns(spec, sorted);
    const allLabels = Uint8Array.from(sorted, (r) => r.label);
    logistic = fitLogistic(allCols, allLabels, options.logistic);
    gbdt = fitGbdt(allCols, allLabels, { ...gbdtOptions, rounds: Math.max(gb.rounds, 1) }).model;
  }
  return {
    format: 'flowgate-risk-model',
    version: 1,
    spec,
    logistic,
    gbdt,
    treeWeight,
    chosen: treeWeight === 0 ? 'logistic' : treeWeight === 1 ? 'gbdt' : 'ensemble',
    calibrator,
    training: { rows: sorted.length, positives: countPositives(sorted), from: sorted[0]?.time ?? 0, to: sorted[sorted.length - 1]?.time ?? 0 },
    validation: {
      rows: valRows.length,
      positives: countPositives(valRows),
      from: valRows[0]?.time ?? 0,
      to: valRows[valRows.length - 1]?.time ?? 0,
      auc: { logistic: auc(lrVal, valLabels), gbdt: auc(gbVal, valLabels), blend: bestAuc },
      gbdtRounds: gb.rounds,
    },
  };
}

/** The component log-odds of one change: logistic, trees and the blend. */
export function componentMargins(model: RiskModel, features: Record<string, number>): { logistic: number; gbdt: number; blend: number } {
  const x = featureVector(model.spec, features);
  const lr = logisticMargin(model.logistic, x);
  const gb = gbdtMargin(model.gbdt, x);
  return { logistic: lr, gbdt: gb, blend: blend(model.treeWeight, lr, gb) };
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
    .map((feature, j) => ({ feature, value: x[j] ?? 0, contribution: blend(model.treeWeight, lr[j] ?? 0, gb[j] ?? 0) }))
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
  treeWeight: z.number(),
  chosen: z.enum(['logistic', 'gbdt', 'ensemble']),
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
