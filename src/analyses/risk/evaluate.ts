import { FlowgateError } from '../../core/errors.ts';
import { buildFeatureSpec, featureColumns, featureVector } from './engineer.ts';
import { componentMargins, describeModel, fitRiskModel, predictRisk, type RiskModel, type RiskModelOptions, type ValidationReport } from './learner.ts';
import { fitLogistic, logisticMargin } from './logistic.ts';
import { auc, brierScore, delongDifference, effortAware, laneTable, reliability, type LaneRow, type ReliabilityBin } from './metrics.ts';
import type { FeatureRow } from './types.ts';

const day = 86_400;
const month = 30.44 * day;

/** The figures of one scorer (the model or a baseline) on the test changes. */
export interface ScorerResult {
  name: string;
  auc: number;
  recallAt20Effort: number;
  effortAt20Recall: number;
  popt: number;
  /** Only for scorers that give probabilities. */
  brier: number | null;
  ece: number | null;
  reliability: ReliabilityBin[] | null;
  /** Only for scorers whose low end is a sensible auto lane. */
  lanes: LaneRow[] | null;
}

/** Rows, defect-inducing rows and time span of one period. */
export interface PeriodSummary {
  rows: number;
  positives: number;
  from: number;
  to: number;
}

/** Per-row scores of one scorer on test rows. */
interface Scores {
  name: string;
  /** Higher is riskier: AUC and lanes. */
  risk: number[];
  /** Probability per row, when the scorer has one. */
  probability: number[] | null;
  /** Inspection order for effort-aware metrics (higher first): risk per changed line. */
  effortKey: number[];
  lanes: boolean;
}

export interface EvaluationOptions {
  /** Share of the latest changes used as test set (ignored when trainCutoff is given). */
  testShare?: number;
  /** Unix seconds: train on changes up to it, test on changes after it (plus the gap). */
  trainCutoff?: number;
  /** Days left out between the end of training and the start of testing. */
  gapDays?: number;
  laneShares?: number[];
  model?: RiskModelOptions;
}

/** The model, its components and the baselines side by side on the same test changes. */
export interface ChronologicalResult {
  train: PeriodSummary;
  test: PeriodSummary;
  trainCutoff: number;
  gapDays: number;
  /** Training changes defect-inducing in truth but counted clean: their fix came after the cutoff. */
  hiddenByLatency: number;
  /** What the model is made of (describeModel). */
  chosen: string;
  validation: ValidationReport;
  model: ScorerResult;
  /**
   * The model's parts alone (means over members): its logistic regression and its trees (for a
   * boosted-logistic member, the trees are corrections on top of the logistic log-odds).
   */
  components: { logistic: ScorerResult; gbdt: ScorerResult };
  baselines: { laOnly: ScorerResult; inverseChurn: ScorerResult; logistic: ScorerResult };
  /** The model's AUC against each AUC baseline's on the same test rows: is a gap more than noise? */
  versus: { logistic: AucComparison; laOnly: AucComparison };
  fitMilliseconds: number;
}

/** AUC(model) - AUC(baseline) on the same rows, with its standard error and 95% interval (DeLong's paired test). */
export interface AucComparison {
  difference: number;
  standardError: number;
  low: number;
  high: number;
}

/** A comparison as text, e.g. `-0.001 (95% -0.006 to +0.004)`. */
export function describeComparison(c: AucComparison): string {
  const signed = (x: number): string => (Number.isNaN(x) ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);
  return `${signed(c.difference)} (95% ${signed(c.low)} to ${signed(c.high)})`;
}

/** DeLong's paired comparison of two scorers' AUC on the same labelled rows. */
function compareAuc(a: readonly number[], b: readonly number[], labels: ArrayLike<number>): AucComparison {
  return meanComparison([delongDifference(a, b, labels)]);
}

/** The label a training change carries at `cutoff`: defect-inducing only once its fix is known. */
export function labelAsOf(row: FeatureRow, cutoff: number): 0 | 1 {
  if (row.label === 0 || row.fixKnownAt === undefined) return row.label;
  return row.fixKnownAt !== null && row.fixKnownAt <= cutoff ? 1 : 0;
}

/** Training rows relabelled as known at the cutoff. */
export function asKnownAt(rows: readonly FeatureRow[], cutoff: number): FeatureRow[] {
  return rows.map((r) => ({ ...r, label: labelAsOf(r, cutoff) }));
}

function summarise(rows: readonly FeatureRow[]): PeriodSummary {
  let positives = 0;
  for (const r of rows) positives += r.label;
  return { rows: rows.length, positives, from: rows[0]?.time ?? 0, to: rows[rows.length - 1]?.time ?? 0 };
}

/** Every figure of one scorer on test rows. */
function score(s: Scores, test: readonly FeatureRow[], laneShares: readonly number[]): ScorerResult {
  const labels = test.map((r) => r.label);
  const effort = test.map((r) => r.churn);
  const calibration = s.probability === null ? null : reliability(s.probability, labels, 10);
  return {
    name: s.name,
    auc: auc(s.risk, labels),
    ...effortAware(s.effortKey, labels, effort),
    brier: s.probability === null ? null : brierScore(s.probability, labels),
    ece: calibration?.ece ?? null,
    reliability: calibration?.bins ?? null,
    lanes: s.lanes ? laneTable(s.risk, labels, laneShares) : null,
  };
}

const sigmoid = (m: number): number => 1 / (1 + Math.exp(-m));
const perLine = (p: number, row: FeatureRow): number => p / Math.max(row.churn, 1);

/** Scores of the fitted model, its components and the baselines on test rows. */
function scoreAll(model: RiskModel, baselineLr: (row: FeatureRow) => number, test: readonly FeatureRow[]) {
  if (test.some((r) => r.features.la === undefined)) {
    throw new FlowgateError('INSUFFICIENT_DATA', 'Some test changes lack the "la" (lines added) feature, which the LA-only baseline needs: compute change features first.');
  }
  const predicted = test.map((r) => predictRisk(model, r));
  const parts = test.map((r) => componentMargins(model, r.features));
  const lrBase = test.map((r) => sigmoid(baselineLr(r)));
  const scorers: Record<string, Scores> = {
    model: { name: 'model', risk: predicted.map((p) => p.margin), probability: predicted.map((p) => p.probability), effortKey: predicted.map((p, i) => perLine(p.probability, test[i] as FeatureRow)), lanes: true },
    componentLogistic: { name: 'model: logistic part', risk: parts.map((p) => p.logistic), probability: null, effortKey: parts.map((p, i) => perLine(sigmoid(p.logistic), test[i] as FeatureRow)), lanes: true },
    componentGbdt: { name: 'model: tree part', risk: parts.map((p) => p.gbdt), probability: null, effortKey: parts.map((p, i) => perLine(sigmoid(p.gbdt), test[i] as FeatureRow)), lanes: true },
    laOnly: { name: 'LA-only', risk: test.map((r) => r.features.la ?? 0), probability: null, effortKey: test.map((r) => perLine(r.features.la ?? 0, r)), lanes: true },
    // Smallest first: 1/churn is an inspection order, so its low end (the largest changes) is no lane.
    inverseChurn: { name: '1/churn', risk: test.map((r) => 1 / Math.max(r.churn, 1)), probability: null, effortKey: test.map((r) => 1 / Math.max(r.churn, 1)), lanes: false },
    logistic: { name: 'logistic regression', risk: lrBase, probability: lrBase, effortKey: lrBase.map((p, i) => perLine(p, test[i] as FeatureRow)), lanes: true },
  };
  return scorers;
}

/** A plain logistic regression on the base features, the learner-independent baseline. */
function fitBaselineLogistic(train: readonly FeatureRow[]): (row: FeatureRow) => number {
  const spec = buildFeatureSpec(train, false);
  const lr = fitLogistic(featureColumns(spec, train), Uint8Array.from(train, (r) => r.label));
  return (row) => logisticMargin(lr, featureVector(spec, row.features));
}

/**
 * Honest chronological evaluation: fit on the earlier changes (labels as known at the cutoff),
 * leave `gapDays` out, test on the later ones, and report the model beside LA-only, 1/churn and a
 * plain logistic regression. Nothing is fit on the test rows.
 */
export function evaluateChronological(rows: readonly FeatureRow[], options: EvaluationOptions = {}): ChronologicalResult {
  const sorted = [...rows].sort((a, b) => a.time - b.time);
  const gapDays = options.gapDays ?? 0;
  const laneShares = options.laneShares ?? [0.3, 0.5, 0.7];
  let trainPool: FeatureRow[];
  let test: FeatureRow[];
  let cutoff: number;
  if (options.trainCutoff !== undefined) {
    cutoff = options.trainCutoff;
    trainPool = sorted.filter((r) => r.time <= cutoff);
    test = sorted.filter((r) => r.time > cutoff + gapDays * day);
  } else {
    const split = Math.floor(sorted.length * (1 - (options.testShare ?? 0.2)));
    test = sorted.slice(split);
    const testStart = test[0]?.time ?? Number.POSITIVE_INFINITY;
    trainPool = sorted.slice(0, split).filter((r) => r.time < testStart - gapDays * day);
    cutoff = trainPool[trainPool.length - 1]?.time ?? 0;
  }
  if (test.length === 0) throw new FlowgateError('INSUFFICIENT_DATA', 'No changes fall after the training cutoff and gap: lower the gap or the cutoff.');
  const train = asKnownAt(trainPool, cutoff);
  const hiddenByLatency = trainPool.filter((r, i) => r.label === 1 && train[i]?.label === 0).length;
  const started = performance.now();
  const model = fitRiskModel(train, options.model);
  const fitMilliseconds = performance.now() - started;
  const scorers = scoreAll(model, fitBaselineLogistic(train), test);
  const result = (key: string): ScorerResult => score(scorers[key] as Scores, test, laneShares);
  const testLabels = Uint8Array.from(test, (r) => r.label);
  return {
    train: summarise(train),
    test: summarise(test),
    trainCutoff: cutoff,
    gapDays,
    hiddenByLatency,
    chosen: describeModel(model),
    validation: model.validation,
    model: result('model'),
    components: { logistic: result('componentLogistic'), gbdt: result('componentGbdt') },
    baselines: { laOnly: result('laOnly'), inverseChurn: result('inverseChurn'), logistic: result('logistic') },
    versus: {
      logistic: compareAuc(scorers.model?.risk ?? [], scorers.logistic?.risk ?? [], testLabels),
      laOnly: compareAuc(scorers.model?.risk ?? [], scorers.laOnly?.risk ?? [], testLabels),
    },
    fitMilliseconds,
  };
}

/**
 * Test windows ending this close to the data's end are flagged right-censored: the median time to
 * a fix is in the months (REFERENCE.md), so many of their defects have no fix (no label) yet.
 */
export const defaultCensorDays = 148;

export interface RollingOptions {
  /** Retrain every this many months (McIntosh & Kamei: at most 3). */
  retrainMonths?: number;
  /** Train on at least this many months of history (at least 6). */
  minTrainMonths?: number;
  /**
   * The first cutoff no earlier than the change this share into the history (default 0): with .5
   * the windows cover the later half, where each model has the most history behind it.
   */
  startShare?: number;
  /** Train only on the latest this many months (default: all history before the cutoff). */
  trainWindowMonths?: number;
  gapDays?: number;
  /** Test windows ending within this many days of the data's end are flagged right-censored. */
  censorDays?: number;
  laneShares?: number[];
  model?: RiskModelOptions;
  /** Called before each retraining (windows done, windows in all): one fit per window takes seconds. */
  progress?: (done: number, total: number) => void;
}

/** One retraining: its cutoff, what it trained on and how it did on the window after it. */
export interface RollingWindow {
  trainCutoff: number;
  train: PeriodSummary;
  test: PeriodSummary;
  modelAuc: number;
  laOnlyAuc: number;
  logisticAuc: number;
  /** Recent: many of its defects may not be fixed (and so labelled) yet. */
  censored: boolean;
}

export interface RollingResult {
  /** Months between retrainings (each window's length). */
  retrainMonths: number;
  windows: RollingWindow[];
  /** Cutoffs skipped because their training data was too small. */
  skipped: { trainCutoff: number; reason: string }[];
  /** All test windows pooled, each scored by the model trained before it. */
  pooled: { test: PeriodSummary; model: ScorerResult; baselines: { laOnly: ScorerResult; inverseChurn: ScorerResult; logistic: ScorerResult } };
  /**
   * The model's AUC minus a baseline's, averaged over the windows (each window's paired DeLong
   * difference; the windows' rows are disjoint, so their variances add).
   */
  versus: { logistic: AucComparison; laOnly: AucComparison };
}

/**
 * Rolling evaluation: every `retrainMonths`, fit on the history up to the cutoff (labels as known
 * then), skip the gap, score the next window with that model; windows are pooled for the figures.
 */
export function evaluateRolling(rows: readonly FeatureRow[], options: RollingOptions = {}): RollingResult {
  const sorted = [...rows].sort((a, b) => a.time - b.time);
  const retrainMonths = options.retrainMonths ?? 3;
  const retrain = retrainMonths * month;
  const minTrain = Math.max(options.minTrainMonths ?? 6, 0) * month;
  const gap = (options.gapDays ?? 0) * day;
  const censor = (options.censorDays ?? defaultCensorDays) * day;
  const laneShares = options.laneShares ?? [0.3, 0.5, 0.7];
  const first = sorted[0]?.time ?? 0;
  const last = sorted[sorted.length - 1]?.time ?? 0;
  const start = Math.max(first + minTrain, sorted[Math.floor(sorted.length * Math.min(Math.max(options.startShare ?? 0, 0), 1))]?.time ?? first);
  const windows: RollingWindow[] = [];
  const differences: { logistic: { difference: number; variance: number }[]; laOnly: { difference: number; variance: number }[] } = { logistic: [], laOnly: [] };
  const skipped: RollingResult['skipped'] = [];
  const pooledTest: FeatureRow[] = [];
  const pooled: Record<string, Scores> = {};
  const cutoffs: number[] = [];
  for (let cutoff = start; cutoff + gap < last; cutoff += retrain) cutoffs.push(cutoff);
  for (const [done, cutoff] of cutoffs.entries()) {
    options.progress?.(done, cutoffs.length);
    const from = options.trainWindowMonths === undefined ? Number.NEGATIVE_INFINITY : cutoff - options.trainWindowMonths * month;
    const train = asKnownAt(sorted.filter((r) => r.time <= cutoff && r.time > from), cutoff);
    const test = sorted.filter((r) => r.time > cutoff + gap && r.time <= cutoff + gap + retrain);
    if (test.length === 0) continue;
    let model: RiskModel;
    try {
      model = fitRiskModel(train, options.model);
    } catch (error) {
      if (!(error instanceof FlowgateError) || error.code !== 'INSUFFICIENT_DATA') throw error;
      skipped.push({ trainCutoff: cutoff, reason: error.message });
      continue;
    }
    const scorers = scoreAll(model, fitBaselineLogistic(train), test);
    const labels = test.map((r) => r.label);
    const risk = (key: string): number[] => scorers[key]?.risk ?? [];
    // A window with one class has no AUC: listed, but left out of the comparison.
    const positives = labels.reduce<number>((n, l) => n + l, 0);
    if (positives > 0 && positives < labels.length) {
      differences.logistic.push(delongDifference(risk('model'), risk('logistic'), labels));
      differences.laOnly.push(delongDifference(risk('model'), risk('laOnly'), labels));
    }
    windows.push({
      trainCutoff: cutoff,
      train: summarise(train),
      test: summarise(test),
      modelAuc: auc((scorers.model as Scores).risk, labels),
      laOnlyAuc: auc((scorers.laOnly as Scores).risk, labels),
      logisticAuc: auc((scorers.logistic as Scores).risk, labels),
      censored: cutoff + gap + retrain > last - censor,
    });
    pooledTest.push(...test);
    for (const [key, s] of Object.entries(scorers)) {
      const into = (pooled[key] ??= { ...s, risk: [], probability: s.probability === null ? null : [], effortKey: [] });
      into.risk.push(...s.risk);
      into.effortKey.push(...s.effortKey);
      if (into.probability !== null && s.probability !== null) into.probability.push(...s.probability);
    }
  }
  if (windows.length === 0) throw new FlowgateError('INSUFFICIENT_DATA', `No test window had enough training history before it (${skipped.length} skipped): mine a longer history or lower minTrainMonths.`, { details: { skipped } });
  const result = (key: string): ScorerResult => score(pooled[key] as Scores, pooledTest, laneShares);
  return {
    retrainMonths,
    windows,
    skipped,
    pooled: { test: summarise(pooledTest), model: result('model'), baselines: { laOnly: result('laOnly'), inverseChurn: result('inverseChurn'), logistic: result('logistic') } },
    versus: { logistic: meanComparison(differences.logistic), laOnly: meanComparison(differences.laOnly) },
  };
}

/** The mean of independent paired differences, with its normal 95% interval. */
function meanComparison(parts: readonly { difference: number; variance: number }[]): AucComparison {
  const k = Math.max(parts.length, 1);
  const difference = parts.reduce((sum, p) => sum + p.difference, 0) / k;
  const standardError = Math.sqrt(Math.max(parts.reduce((sum, p) => sum + p.variance, 0), 0)) / k;
  return { difference, standardError, low: difference - 1.96 * standardError, high: difference + 1.96 * standardError };
}
