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
   * With several half-lives: average the best model of each (the default), keep only the single
   * best one, or (`auto`) whichever of the two scores higher on the held-out slice. Averaging won
   * on the training periods of five histories (mean validation AUC .805 against .802 for `auto`,
   * whose choice on one small slice is noisy): docs/risk-model.md.
   */
  combine?: 'average' | 'best' | 'auto';
  /**
   * Weights tried on the held-out slice for a plain ridge logistic regression on the base features
   * (no ratios, no recency weighting: the usual baseline) stacked with the members:
   * (1 - w) * members + w * plain. 1 is the plain regression alone, so on the held-out slice the
   * kept model is never below it. [] turns the plain member off. Default [0, 0.25, 0.5, 0.75, 1].
   */
  plainLogisticWeights?: number[];
  /**
   * Weight training changes by recency: a change this many months older counts half (null: equal
   * weights). A list is tried on the held-out slice and the best kept (default [null, 6, 12, 24]).
   */
  halfLifeMonths?: number | null | (number | null)[];
  seed?: number;
  gbdt?: GbdtOptions;
  logistic?: LogisticOptions;
}

/** How one recency weighting fared on the held-out slice: AUC per shape, and the best shape. */
export interface MemberValidation {
  halfLifeMonths: number | null;
  auc: { logistic: number; gbdt: number; blend: number; boostedLogistic: number | null };
  shape: ModelShape;
  bestAuc: number;
  gbdtRounds: number;
}

/** How the held-out slice of the training data judged the candidates. */
export interface ValidationReport {
  rows: number;
  positives: number;
  from: number;
  to: number;
  members: MemberValidation[];
  combine: 'average' | 'best';
  /** The plain logistic regression on the base features: its held-out AUC and the weight it got (0: left out). */
  plainLogistic?: { auc: number; weight: number; tried: { weight: number; auc: number }[] };
  /** AUC of the model as kept (the average of the members, or the single best, stacked with the plain regression). */
  auc: number;
}

/** What a member's log-odds are made of. */
export type ModelShape = 'logistic' | 'gbdt' | 'ensemble' | 'boosted-logistic';

/**
 * One member: log-odds = logisticWeight * logistic + treeWeight * trees, fit with one recency
 * weighting. For `boosted-logistic` the trees were fit on top of the logistic log-odds (both 1).
 */
export interface RiskModelMember {
  halfLifeMonths: number | null;
  shape: ModelShape;
  /** Its share of the model's log-odds (absent in models stored before: equal shares). */
  weight?: number;
  /** The plain logistic regression on the base features (its ratio inputs have zero coefficients). */
  plain?: boolean;
  logistic: LogisticModel;
  gbdt: GbdtModel;
  logisticWeight: number;
  treeWeight: number;
}

/** A fitted change-risk model: the weighted log-odds of its members, then a calibrator. */
export interface RiskModel {
  format: 'flowgate-risk-model';
  version: 1;
  spec: FeatureSpec;
  members: RiskModelMember[];
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
 * `validationShare` of them stops boosting, picks for each recency weighting the best of logistic,
 * trees, their blends and trees boosted on the logistic model (by AUC), and fits the calibrator;
 * then the members are refit on all rows. Deterministic for a given seed.
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
  const halfLives = options.halfLifeMonths === undefined ? [null, 6, 12, 24] : Array.isArray(options.halfLifeMonths) ? options.halfLifeMonths : [options.halfLifeMonths];
  if (halfLives.length === 0) throw new FlowgateError('USAGE', 'halfLifeMonths is an empty list: give at least one half-life (or null).');
  const gbdtOptions: GbdtOptions = { seed: options.seed ?? 1, ...options.gbdt };
  type Candidate = { shape: ModelShape; logisticWeight: number; treeWeight: number; auc: number; margins: number[]; rounds: number };
  const tried: { validation: MemberValidation; best: Candidate }[] = [];
  for (const halfLifeMonths of halfLives) {
    const stage: Stage = { spec, rows: fitRows, options, gbdt: gbdtOptions, halfLifeMonths };
    const plain = fitComponents(stage, 'plain', null, valRows);
    const lrVal = valX.map((x) => logisticMargin(plain.logistic, x));
    const gbVal = valX.map((x) => gbdtMargin(plain.gbdt.model, x));
    const candidates: Candidate[] = [];
    for (const w of options.blendWeights ?? [0, 0.25, 0.5, 0.75, 1]) {
      const margins = lrVal.map((m, i) => (1 - w) * m + w * (gbVal[i] ?? 0));
      candidates.push({ shape: w === 0 ? 'logistic' : w === 1 ? 'gbdt' : 'ensemble', logisticWeight: 1 - w, treeWeight: w, auc: auc(margins, valLabels), margins, rounds: plain.gbdt.rounds });
    }
    if (options.boostedLogistic ?? true) {
      const boosted = fitComponents(stage, 'boosted', null, valRows, plain.logistic);
      const margins = valX.map((x) => logisticMargin(boosted.logistic, x) + gbdtMargin(boosted.gbdt.model, x));
      candidates.push({ shape: 'boosted-logistic', logisticWeight: 1, treeWeight: 1, auc: auc(margins, valLabels), margins, rounds: boosted.gbdt.rounds });
    }
    // The first best wins, so ties go to the simpler shape listed first.
    const best = candidates.reduce((a, b) => (b.auc > a.auc + 1e-12 ? b : a));
    const shapeAuc = (shape: ModelShape): number => candidates.filter((c) => c.shape === shape).reduce((m, c) => Math.max(m, c.auc), Number.NEGATIVE_INFINITY);
    tried.push({
      best,
      validation: {
        halfLifeMonths,
        auc: { logistic: shapeAuc('logistic'), gbdt: shapeAuc('gbdt'), blend: shapeAuc('ensemble'), boostedLogistic: options.boostedLogistic ?? true ? shapeAuc('boosted-logistic') : null },
        shape: best.shape,
        bestAuc: best.auc,
        gbdtRounds: best.rounds,
      },
    });
  }
  const single = [tried.reduce((a, b) => (b.best.auc > a.best.auc + 1e-12 ? b : a))];
  const meanMargins = (ts: typeof tried): number[] => valRows.map((_, i) => ts.reduce((sum, t) => sum + (t.best.margins[i] ?? 0), 0) / ts.length);
  const averageAuc = auc(meanMargins(tried), valLabels);
  const wanted = options.combine ?? 'average';
  const combine = wanted === 'auto' ? (tried.length > 1 && averageAuc > (single[0]?.best.auc ?? 0) ? 'average' : 'best') : wanted;
  const kept = combine === 'average' ? tried : single;
  const membersMargins = meanMargins(kept);

  // The plain logistic regression, stacked with the members at the weight the held-out slice picks.
  const plainWeights = options.plainLogisticWeights ?? [0, 0.25, 0.5, 0.75, 1];
  const plainSpec = buildFeatureSpec(sorted, false);
  const fitPlain = (rs: readonly FeatureRow[]): LogisticModel => widenLogistic(fitLogistic(featureColumns(plainSpec, rs), Uint8Array.from(rs, (r) => r.label), options.logistic), specNames(spec).length);
  let plainWeight = 0;
  let valMargins = membersMargins;
  let plainReport: ValidationReport['plainLogistic'];
  if (plainWeights.length > 0) {
    const plainVal = fitPlain(fitRows);
    const plainMargins = valX.map((x) => logisticMargin(plainVal, x));
    const stacked = plainWeights.map((w) => ({ weight: w, margins: membersMargins.map((m, i) => (1 - w) * m + w * (plainMargins[i] ?? 0)) }));
    const scored = stacked.map((c) => ({ ...c, auc: auc(c.margins, valLabels) }));
    // The first best wins: ties keep the weight listed first.
    const chosen = scored.reduce((a, b) => (b.auc > a.auc + 1e-12 ? b : a));
    plainWeight = chosen.weight;
    valMargins = chosen.margins;
    plainReport = { auc: auc(plainMargins, valLabels), weight: plainWeight, tried: scored.map((c) => ({ weight: c.weight, auc: c.auc })) };
  }
  const calibrator = fitCalibrator(options.calibration ?? 'isotonic', valMargins, valLabels);
  const trainRows = options.refit ?? true ? sorted : fitRows;
  const members = plainWeight === 1 ? [] : kept.map(({ best, validation }): RiskModelMember => {
    const stage: Stage = { spec, rows: trainRows, options, gbdt: gbdtOptions, halfLifeMonths: validation.halfLifeMonths };
    const final = fitComponents(stage, best.shape === 'boosted-logistic' ? 'boosted' : 'plain', best.rounds);
    return { halfLifeMonths: validation.halfLifeMonths, shape: best.shape, weight: (1 - plainWeight) / kept.length, logistic: final.logistic, gbdt: final.gbdt.model, logisticWeight: best.logisticWeight, treeWeight: best.treeWeight };
  });
  if (plainWeight > 0) members.push({ halfLifeMonths: null, shape: 'logistic', weight: plainWeight, plain: true, logistic: fitPlain(trainRows), gbdt: { kind: 'gbdt', base: 0, trees: [] }, logisticWeight: 1, treeWeight: 0 });
  return {
    format: 'flowgate-risk-model',
    version: 1,
    spec,
    members,
    calibrator,
    training: { rows: sorted.length, positives: countPositives(sorted), from: sorted[0]?.time ?? 0, to: sorted[sorted.length - 1]?.time ?? 0 },
    validation: {
      rows: valRows.length,
      positives: countPositives(valRows),
      from: valRows[0]?.time ?? 0,
      to: valRows[valRows.length - 1]?.time ?? 0,
      members: tried.map((t) => t.validation),
      combine,
      ...(plainReport === undefined ? {} : { plainLogistic: plainReport }),
      auc: auc(valMargins, valLabels),
    },
  };
}

/**
 * A logistic model on the base features as one over base + ratio inputs: the ratios get zero
 * coefficients (and a neutral scaler), so its log-odds are the same for every row.
 */
function widenLogistic(model: LogisticModel, width: number): LogisticModel {
  const pad = (xs: readonly number[], fill: number): number[] => [...xs, ...new Array<number>(Math.max(0, width - xs.length)).fill(fill)];
  return { kind: 'logistic', mean: pad(model.mean, 0), sd: pad(model.sd, 1), coef: pad(model.coef, 0), intercept: model.intercept };
}

/** Each member's share of the model's log-odds. */
function memberWeight(model: RiskModel, m: RiskModelMember): number {
  return m.weight ?? 1 / model.members.length;
}

/** A short description of the model's make-up, e.g. `average of 4: ensemble (hl none), ...`. */
export function describeModel(model: RiskModel): string {
  const stacked = model.members.filter((m) => m.plain !== true);
  const plain = model.members.find((m) => m.plain === true);
  const parts = stacked.map((m) => `${m.shape} (half-life ${m.halfLifeMonths === null ? 'none' : `${m.halfLifeMonths} mo`})`);
  const members = stacked.length === 1 ? (parts[0] ?? '') : `average of ${parts.length}: ${parts.join(', ')}`;
  if (plain === undefined) return members;
  const weight = memberWeight(model, plain);
  return stacked.length === 0 ? 'plain logistic regression' : `${members}; stacked with the plain logistic regression at weight ${Math.round(weight * 100) / 100}`;
}

/** The log-odds of one change: the members' logistic parts, tree parts and the model (weighted over members). */
export function componentMargins(model: RiskModel, features: Record<string, number>): { logistic: number; gbdt: number; blend: number } {
  const x = featureVector(model.spec, features);
  let lr = 0;
  let gb = 0;
  let blend = 0;
  let lrWeight = 0;
  let gbWeight = 0;
  for (const m of model.members) {
    const w = memberWeight(model, m);
    const l = logisticMargin(m.logistic, x);
    const g = gbdtMargin(m.gbdt, x);
    lr += w * l;
    lrWeight += w;
    // The plain regression has no trees: the tree part is the other members'.
    if (m.plain !== true) {
      gb += w * g;
      gbWeight += w;
    }
    blend += w * (m.logisticWeight * l + m.treeWeight * g);
  }
  return { logistic: lrWeight > 0 ? lr / lrWeight : 0, gbdt: gbWeight > 0 ? gb / gbWeight : 0, blend };
}

/** One change's risk: the model's log-odds and calibrated probability. */
export function predictRisk(model: RiskModel, row: Pick<FeatureRow, 'features'>): RiskScore {
  const margin = componentMargins(model, row.features).blend;
  return { margin, probability: calibrate(model.calibrator, margin) };
}

/**
 * Why a change got its risk: each input's contribution to the model's log-odds (logistic:
 * coef * standardised value; trees: Saabas path attribution; weighted over members), largest
 * magnitude first.
 */
export function explainRisk(model: RiskModel, row: Pick<FeatureRow, 'features'>): Contribution[] {
  const x = featureVector(model.spec, row.features);
  const names = specNames(model.spec);
  const total = new Array<number>(names.length).fill(0);
  for (const m of model.members) {
    const lr = logisticContributions(m.logistic, x);
    const gb = gbdtContributions(m.gbdt, x, names.length).contributions;
    const w = memberWeight(model, m);
    for (let j = 0; j < names.length; j++) total[j] = (total[j] ?? 0) + w * (m.logisticWeight * (lr[j] ?? 0) + m.treeWeight * (gb[j] ?? 0));
  }
  return names
    .map((feature, j) => ({ feature, value: x[j] ?? 0, contribution: total[j] ?? 0 }))
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
  members: z
    .array(
      z.object({
        halfLifeMonths: z.number().nullable(),
        shape: z.enum(['logistic', 'gbdt', 'ensemble', 'boosted-logistic']),
        weight: z.number().optional(),
        plain: z.boolean().optional(),
        logistic: z.object({ kind: z.literal('logistic'), mean: numbers, sd: numbers, coef: numbers, intercept: z.number() }),
        gbdt: z.object({ kind: z.literal('gbdt'), base: z.number(), trees: z.array(treeSchema) }),
        logisticWeight: z.number(),
        treeWeight: z.number(),
      }),
    )
    .min(1),
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
  if (parsed.data.members.some((m) => m.logistic.coef.length !== width)) throw new FlowgateError('CONFIG_INVALID', 'The stored risk model is inconsistent (coefficients do not match its features): retrain the model.');
  return value as RiskModel;
}
