import { FlowgateError } from '../../core/errors.ts';
import type { ChangedPath } from './git.ts';
import type { ReviewTier } from './select.ts';

/** What a file is, for review effort: docs and tests read faster than code; lock files and generated output are skimmed. */
export type FileKind = 'code' | 'test' | 'docs' | 'config' | 'generated';

/** Classifies a path by name (no content is read). */
export function fileKind(path: string): FileKind {
  const p = path.toLowerCase();
  const name = p.slice(p.lastIndexOf('/') + 1);
  if (/(^|\/)(dist|build|vendor|node_modules|__snapshots__)\//.test(p) || /\.(lock|min\.js|snap|map)$/.test(name) || /^(package-lock\.json|pnpm-lock\.yaml|yarn\.lock|cargo\.lock|go\.sum|poetry\.lock)$/.test(name)) {
    return 'generated';
  }
  if (/(^|\/)(tests?|spec|__tests__|__fixtures__|fixtures)\//.test(p) || /[._-](test|spec)\.[a-z0-9]+$/.test(name) || /^test_.*\.py$/.test(name)) return 'test';
  if (/(^|\/)docs?\//.test(p) || /\.(md|mdx|rst|adoc|txt)$/.test(name) || /^(readme|changelog|license|contributing)/.test(name)) return 'docs';
  if (/\.(json|ya?ml|toml|ini|cfg|conf|env|properties|xml)$/.test(name) || p.startsWith('.github/') || /^(dockerfile|makefile|\.[a-z]+rc)$/.test(name)) return 'config';
  return 'code';
}

/** A change as the estimate sees it: its files with line counts, and its tier. */
export interface ChangeShape {
  files: readonly ChangedPath[];
  tier?: ReviewTier | undefined;
}

/** One observed review: when it finished, the change, and how many minutes it took. */
export interface ReviewObservation {
  time: number;
  change: ChangeShape;
  minutes: number;
}

const featureNames = ['intercept', 'log code lines', 'log test lines', 'log docs lines', 'log config lines', 'log files', 'tier light', 'tier senior'] as const;

/** A fitted log-linear model of review minutes, or the built-in default when there is no history. */
export type ReviewTimeModel =
  | { kind: 'default' }
  | { kind: 'fitted'; features: readonly string[]; coefficients: number[]; residualSd: number; trainedOn: number; trainedUntil: number };

/** The built-in estimate: about 300 lines of code an hour (tests 600, docs 1200), plus 5 minutes, scaled by tier. */
export const defaultReviewTimeModel: ReviewTimeModel = { kind: 'default' };

function linesByKind(change: ChangeShape): Record<FileKind, number> {
  const lines: Record<FileKind, number> = { code: 0, test: 0, docs: 0, config: 0, generated: 0 };
  for (const f of change.files) lines[fileKind(f.path)] += (f.added ?? 0) + (f.deleted ?? 0);
  return lines;
}

/** The model's features of a change, in `featureNames` order. */
export function reviewFeatures(change: ChangeShape): number[] {
  const l = linesByKind(change);
  return [1, Math.log1p(l.code), Math.log1p(l.test), Math.log1p(l.docs), Math.log1p(l.config), Math.log1p(change.files.length), change.tier === 'light' ? 1 : 0, change.tier === 'senior' ? 1 : 0];
}

/** An estimate with an 80% range and what it is based on. */
export interface ReviewEstimate {
  minutes: number;
  low: number;
  high: number;
  basis: string;
}

/** Estimated review minutes of a change (0 in the auto lane). */
export function estimateReviewMinutes(change: ChangeShape, model: ReviewTimeModel = defaultReviewTimeModel): ReviewEstimate {
  if (change.tier === 'auto') return { minutes: 0, low: 0, high: 0, basis: 'auto lane: no human review' };
  if (model.kind === 'default') {
    const l = linesByKind(change);
    const tierFactor = change.tier === 'light' ? 0.6 : change.tier === 'senior' ? 1.5 : 1;
    const minutes = Math.min(240, (5 + l.code / 5 + l.test / 10 + l.docs / 20 + l.config / 10 + l.generated / 200) * tierFactor);
    return { minutes, low: minutes / 2, high: minutes * 2, basis: 'built-in default (~300 lines of code an hour); no review history to fit on' };
  }
  const x = reviewFeatures(change);
  const log = x.reduce((sum, v, i) => sum + v * (model.coefficients[i] ?? 0), 0);
  // 1.2816 standard deviations either side hold 80% of a normal residual.
  const spread = Math.exp(1.2816 * model.residualSd);
  const minutes = Math.exp(log);
  return { minutes, low: minutes / spread, high: minutes * spread, basis: `fitted on ${model.trainedOn} reviews of this repository` };
}

/** Solves A x = b by Gaussian elimination with partial pivoting (A is small and square). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] ?? 0]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]?.[col] ?? 0) > Math.abs(m[pivot]?.[col] ?? 0)) pivot = r;
    const tmp = m[col];
    m[col] = m[pivot] ?? [];
    m[pivot] = tmp ?? [];
    const p = m[col]?.[col] ?? 0;
    if (Math.abs(p) < 1e-12) continue;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = (m[r]?.[col] ?? 0) / p;
      if (f === 0) continue;
      for (let c = col; c <= n; c++) (m[r] as number[])[c] = (m[r]?.[c] ?? 0) - f * (m[col]?.[c] ?? 0);
    }
  }
  return m.map((row, i) => {
    const p = row[i] ?? 0;
    return Math.abs(p) < 1e-12 ? 0 : (row[n] ?? 0) / p;
  });
}

/** Fits the log-linear model (ridge least squares on log minutes) to observations. */
export function fitReviewTimeModel(observations: readonly ReviewObservation[], ridge = 1): ReviewTimeModel {
  const usable = observations.filter((o) => o.minutes > 0 && Number.isFinite(o.minutes) && o.change.tier !== 'auto');
  if (usable.length < 10) {
    throw new FlowgateError('INSUFFICIENT_DATA', `Only ${usable.length} usable review observations; at least 10 are needed to fit review times. Import review events or use the default estimate.`);
  }
  const k = featureNames.length;
  const xtx = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const xty = new Array<number>(k).fill(0);
  const rows = usable.map((o) => ({ x: reviewFeatures(o.change), y: Math.log(o.minutes) }));
  for (const { x, y } of rows) {
    for (let i = 0; i < k; i++) {
      xty[i] = (xty[i] ?? 0) + (x[i] ?? 0) * y;
      for (let j = 0; j < k; j++) (xtx[i] as number[])[j] = (xtx[i]?.[j] ?? 0) + (x[i] ?? 0) * (x[j] ?? 0);
    }
  }
  // Ridge on everything but the intercept keeps rare features (no docs ever) from blowing up.
  for (let i = 1; i < k; i++) (xtx[i] as number[])[i] = (xtx[i]?.[i] ?? 0) + ridge;
  const coefficients = solve(xtx, xty);
  const residuals = rows.map(({ x, y }) => y - x.reduce((s, v, i) => s + v * (coefficients[i] ?? 0), 0));
  const residualSd = Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / Math.max(1, residuals.length - k));
  return { kind: 'fitted', features: featureNames, coefficients, residualSd, trainedOn: usable.length, trainedUntil: Math.max(...usable.map((o) => o.time)) };
}

/** Error figures of an estimator on held-out (later) reviews. */
export interface EstimateError {
  count: number;
  /** Mean absolute error, minutes. */
  maeMinutes: number;
  /** Median absolute error, minutes. */
  medianAbsMinutes: number;
  /** Median of |estimate - actual| / actual. */
  medianAbsPercent: number;
  /** Share of estimates within a factor of two of the actual. */
  withinFactor2: number;
}

/** The estimate's error on later changes: fit on the oldest `trainShare` by time, score on the rest, beside a median baseline. */
export interface ReviewTimeEvaluation {
  train: number;
  test: number;
  splitAt: number;
  model: EstimateError;
  /** The training median for every change: the bar the model must clear. */
  baseline: EstimateError;
  /** The built-in default, for comparison. */
  defaultModel: EstimateError;
}

function errorOf(pairs: readonly { estimate: number; actual: number }[]): EstimateError {
  const abs = pairs.map((p) => Math.abs(p.estimate - p.actual)).sort((a, b) => a - b);
  const pct = pairs.map((p) => Math.abs(p.estimate - p.actual) / p.actual).sort((a, b) => a - b);
  const median = (v: number[]): number => (v.length === 0 ? Number.NaN : v.length % 2 === 1 ? (v[(v.length - 1) / 2] ?? 0) : ((v[v.length / 2 - 1] ?? 0) + (v[v.length / 2] ?? 0)) / 2);
  return {
    count: pairs.length,
    maeMinutes: abs.reduce((s, v) => s + v, 0) / Math.max(1, abs.length),
    medianAbsMinutes: median(abs),
    medianAbsPercent: median(pct),
    withinFactor2: pairs.filter((p) => p.estimate <= 2 * p.actual && p.estimate >= p.actual / 2).length / Math.max(1, pairs.length),
  };
}

/** Measures the estimate's error on later changes than those it was fitted on (split by time, never shuffled). */
export function evaluateReviewTimeModel(observations: readonly ReviewObservation[], trainShare = 0.7): ReviewTimeEvaluation {
  const sorted = observations.filter((o) => o.minutes > 0 && o.change.tier !== 'auto').sort((a, b) => a.time - b.time);
  const cut = Math.floor(sorted.length * trainShare);
  const train = sorted.slice(0, cut);
  const test = sorted.slice(cut);
  if (test.length < 5) throw new FlowgateError('INSUFFICIENT_DATA', `Only ${test.length} later reviews to score the estimate on; at least 5 are needed.`);
  const model = fitReviewTimeModel(train);
  const trainMinutes = train.map((o) => o.minutes).sort((a, b) => a - b);
  const median = trainMinutes[Math.floor((trainMinutes.length - 1) / 2)] ?? 0;
  return {
    train: train.length,
    test: test.length,
    splitAt: test[0]?.time ?? 0,
    model: errorOf(test.map((o) => ({ estimate: estimateReviewMinutes(o.change, model).minutes, actual: o.minutes }))),
    baseline: errorOf(test.map((o) => ({ estimate: median, actual: o.minutes }))),
    defaultModel: errorOf(test.map((o) => ({ estimate: estimateReviewMinutes(o.change).minutes, actual: o.minutes }))),
  };
}
