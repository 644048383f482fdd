import { z } from 'zod';
import { FlowgateError } from '../../core/errors.ts';
import { calibrate, fitCalibrator, type CalibrationMethod, type Calibrator } from './calibration.ts';
import { buildFeatureSpec, featureColumns, featureVector, specNames, type FeatureSpec } from './engineer.ts';
import { fitGbdt, gbdtContributions, gbdtMargin, type GbdtModel, type GbdtOptions } from './gbdt.ts';
import { fitLogistic, logisticContributions, logisticMargin, type LogisticModel, type LogisticOptions } from './logistic.ts';
import { auc, delongDifference } from './metrics.ts';
import type { FeatureRow } from './types.ts';

/**
 * The default validation: the latest 20% of the training rows as one slice. Rolling-origin
 * validation (e.g. `{ share: .3, folds: 3 }`) tied it on the selection histories' validation AUC
 * (.8040 against .8038) at three times the fitting time, so the cheaper one is the default
 * (docs/risk-model.md).
 */
export const defaultValidation = { share: 0.2, folds: 1 };

export interface RiskModelOptions {
  /**
   * Share of the training rows, the latest ones, used for validation (default .2): cut into
   * `validationFolds` time-ordered slices that stop boosting, choose the model and calibrate.
   */
  validationShare?: number;
  /**
   * Rolling-origin slices (default 1): each is scored by candidates fit on every training row
   * before it and choices go by the AUC averaged over them. Fewer when a slice would be too small.
   */
  validationFolds?: number;
  calibration?: CalibrationMethod;
  /** After choosing on the validation slices, refit on all training rows (recent changes matter most). */
  refit?: boolean;
  /** Add ratio features (la/lt, la/nf, ...) to the base features. */
  derivedFeatures?: boolean;
  /** Tree-model weights tried for the blend of log-odds (0 = logistic only, 1 = trees only). */
  blendWeights?: number[];
  /** Also try trees boosted on top of the logistic model's log-odds. */
  boostedLogistic?: boolean;
  /**
   * With several half-lives: average the best model of each (the default), keep only the single
   * best one, or (`auto`) whichever of the two scores higher on the validation slices. Averaging won
   * on the training periods of five histories (mean validation AUC .805 against .802 for `auto`,
   * whose choice on one small slice is noisy): docs/risk-model.md.
   */
  combine?: 'average' | 'best' | 'auto';
  /**
   * Weights tried on the validation slices for a plain ridge logistic regression on the base features
   * (no ratios, no recency weighting: the usual baseline) stacked with the members:
   * (1 - w) * members + w * plain. 1 is the plain regression alone, so on the validation slices the
   * kept model is never below it. [] turns the plain member off. Default [0, 0.25, 0.5, 0.75, 1].
   */
  plainLogisticWeights?: number[];
  /**
   * How the plain regression's weight is picked: `best` (the default) the highest mean slice AUC;
   * `delong` the largest weight (the simplest model) whose AUC is not significantly below the best
   * one's (one-sided paired DeLong test at 5%); `likelihood` a logistic regression of the slices'
   * labels on the two log-odds (members, plain), w = b / (a + b) with negative coefficients as 0.
   * Neither alternative beat `best` on the selection histories (docs/risk-model.md, 2026-11-21).
   */
  plainWeightRule?: 'best' | 'delong' | 'likelihood';
  /**
   * Give each recency member's trees its own seed (seed + 1000 * its index) so their average
   * decorrelates. An option: +.0005 mean validation AUC on the selection histories, within seed noise.
   */
  memberSeeds?: boolean;
  /**
   * Weight training changes by recency: a change this many months older counts half (null: equal
   * weights). A list is tried on the validation slices and the best kept (default [null, 6, 12, 24]).
   */
  halfLifeMonths?: number | null | (number | null)[];
  /**
   * Inputs every tree must be non-decreasing in (a split on one never gives its larger side less
   * risk). Absent names are ignored. Default none (the session-5 `monotone` candidate of
   * select-features.ts listed the change's size and spread).
   */
  monotoneFeatures?: readonly string[];
  /**
   * Boosting rounds of the final refit on all training rows: `same` as the validation slices'
   * early stopping picked (the default), or `scaled` by the ratio of rows (all over those fit
   * before the slices), since more rows support more rounds at the same learning rate.
   */
  refitRounds?: 'same' | 'scaled';
  /**
   * Knots per input for the members' logistic parts (a linear spline in log space, see
   * `LogisticOptions.knots`); the plain regression stays plain. Default 0 (none): the session-5
   * `spline` candidate used 4.
   */
  splineKnots?: number;
  /**
   * Inputs only the logistic parts read: the trees never split on them (`GbdtOptions.heldOut`). Absent names are ignored.
   * Default none. The idea: a tree cannot extrapolate counters that only grow as a project ages
   * (experience, file age, prior changes), a regression in log space can. Tried in session 6 on
   * those counters, it cost .005 validation AUC on both JIT pools (docs/risk-model.md).
   */
  linearOnlyFeatures?: readonly string[];
  seed?: number;
  gbdt?: GbdtOptions;
  logistic?: LogisticOptions;
}

/** How one recency weighting fared on the validation slices (mean AUC): AUC per shape, and the best shape. */
export interface MemberValidation {
  halfLifeMonths: number | null;
  auc: { logistic: number; gbdt: number; blend: number; boostedLogistic: number | null };
  shape: ModelShape;
  bestAuc: number;
  gbdtRounds: number;
}

/** One rolling-origin slice: how many rows fit its candidates, its own rows, and the kept model's AUC on it. */
export interface ValidationFold {
  fitRows: number;
  rows: number;
  positives: number;
  from: number;
  to: number;
  auc: number;
}

/** How the validation slices of the training data judged the candidates (AUCs are means over the slices). */
export interface ValidationReport {
  /** All slices together. */
  rows: number;
  positives: number;
  from: number;
  to: number;
  members: MemberValidation[];
  /** Absent in models stored before rolling validation (one slice). */
  folds?: ValidationFold[];
  combine: 'average' | 'best';
  /** The plain logistic regression on the base features: its mean AUC over the validation slices and the weight it got (0: left out). */
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
  const knots = options.splineKnots ?? 0;
  const logistic = prefit ?? fitLogistic(columns, labels, knots > 0 ? { ...options.logistic, knots } : options.logistic, weights);
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

/** One time-ordered validation slice of the training period, fit on every training row before it. */
interface Fold {
  fit: readonly FeatureRow[];
  val: readonly FeatureRow[];
  x: Float64Array[];
  labels: Uint8Array;
}

/**
 * The rolling-origin slices: the latest `share` of the (time-sorted) training rows cut into `count`
 * consecutive slices, each scored by models fit on every row before it. Fewer slices when one of
 * them would be too small, so a short history still gets a model (one slice: the old single split).
 */
function rollingFolds(sorted: readonly FeatureRow[], share: number, count: number, spec: FeatureSpec): Fold[] {
  const start = Math.floor(sorted.length * (1 - share));
  for (let k = Math.max(1, Math.floor(count)); k >= 1; k--) {
    const bounds = Array.from({ length: k + 1 }, (_, i) => start + Math.floor((i * (sorted.length - start)) / k));
    const slices = bounds.slice(0, -1).map((b, i) => ({ fit: sorted.slice(0, b), val: sorted.slice(b, bounds[i + 1]) }));
    const enough = (rs: readonly FeatureRow[]): boolean => {
      const positives = countPositives(rs);
      return rs.length >= minRows && positives >= minPositives && positives < rs.length;
    };
    if (k > 1 && !slices.every((f) => enough(f.fit) && enough(f.val))) continue;
    const only = slices[0];
    if (k === 1 && only !== undefined) {
      requireEnough(only.fit, 'training period before the held-out slice');
      requireEnough(only.val, 'held-out (latest) slice of the training period');
    }
    return slices.map((f) => ({ ...f, x: f.val.map((r) => featureVector(spec, r.features)), labels: Uint8Array.from(f.val, (r) => r.label) }));
  }
  return [];
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

/**
 * Fits a change-risk model on training rows (labels as known at the cutoff). Rolling-origin
 * validation inside the training period: the latest `validationShare` is cut into
 * `validationFolds` time-ordered slices, each scored by candidates fit on every row before it; the
 * AUC averaged over the slices stops boosting (mean rounds), picks for each recency weighting the
 * best of logistic, trees, their blends and trees boosted on the logistic model, the combination
 * and the weight of the plain logistic regression; the calibrator is fit on the slices' pooled
 * scores; then the members are refit on all rows. Deterministic for a given seed.
 */
export function fitRiskModel(rows: readonly FeatureRow[], options: RiskModelOptions = {}): RiskModel {
  const sorted = [...rows].sort((a, b) => a.time - b.time);
  const spec = buildFeatureSpec(sorted, options.derivedFeatures ?? true);
  const folds = rollingFolds(sorted, options.validationShare ?? defaultValidation.share, options.validationFolds ?? defaultValidation.folds, spec);
  const pooledLabels = Uint8Array.from(folds.flatMap((f) => [...f.labels]));
  const halfLives = options.halfLifeMonths === undefined ? [null, 6, 12, 24] : Array.isArray(options.halfLifeMonths) ? options.halfLifeMonths : [options.halfLifeMonths];
  if (halfLives.length === 0) throw new FlowgateError('USAGE', 'halfLifeMonths is an empty list: give at least one half-life (or null).');
  // Per-input tree options given by name: a flag per model input.
  const flags = (names: readonly string[] | undefined): number[] | undefined => {
    const named = new Set(names ?? []);
    return named.size === 0 ? undefined : specNames(spec).map((name) => (named.has(name) ? 1 : 0));
  };
  const monotone = flags(options.monotoneFeatures);
  const heldOut = flags(options.linearOnlyFeatures);
  const gbdtOptions: GbdtOptions = { seed: options.seed ?? 1, ...(monotone === undefined ? {} : { monotone }), ...(heldOut === undefined ? {} : { heldOut }), ...options.gbdt };
  const memberGbdt = (h: number): GbdtOptions => (options.memberSeeds === true ? { ...gbdtOptions, seed: (gbdtOptions.seed ?? 1) + h * 1000 } : gbdtOptions);
  // Per candidate and slice: its log-odds on the slice, AUC there and boosting rounds.
  type Candidate = { shape: ModelShape; logisticWeight: number; treeWeight: number; auc: number[]; margins: number[][]; rounds: number[] };
  const candidatesOf: Candidate[][] = halfLives.map(() => []);
  for (const fold of folds) {
    for (const [h, halfLifeMonths] of halfLives.entries()) {
      const stage: Stage = { spec, rows: fold.fit, options, gbdt: memberGbdt(h), halfLifeMonths };
      const plain = fitComponents(stage, 'plain', null, fold.val);
      const lrVal = fold.x.map((x) => logisticMargin(plain.logistic, x));
      const gbVal = fold.x.map((x) => gbdtMargin(plain.gbdt.model, x));
      const found: Omit<Candidate, 'auc' | 'margins' | 'rounds'>[] = [];
      const margins: number[][] = [];
      const rounds: number[] = [];
      for (const w of options.blendWeights ?? [0, 0.25, 0.5, 0.75, 1]) {
        found.push({ shape: w === 0 ? 'logistic' : w === 1 ? 'gbdt' : 'ensemble', logisticWeight: 1 - w, treeWeight: w });
        margins.push(lrVal.map((m, i) => (1 - w) * m + w * (gbVal[i] ?? 0)));
        rounds.push(plain.gbdt.rounds);
      }
      if (options.boostedLogistic ?? true) {
        const boosted = fitComponents(stage, 'boosted', null, fold.val, plain.logistic);
        found.push({ shape: 'boosted-logistic', logisticWeight: 1, treeWeight: 1 });
        margins.push(fold.x.map((x) => logisticMargin(boosted.logistic, x) + gbdtMargin(boosted.gbdt.model, x)));
        rounds.push(boosted.gbdt.rounds);
      }
      const list = candidatesOf[h] ?? [];
      found.forEach((c, i) => {
        const into = (list[i] ??= { ...c, auc: [], margins: [], rounds: [] });
        into.margins.push(margins[i] ?? []);
        into.auc.push(auc(margins[i] ?? [], fold.labels));
        into.rounds.push(rounds[i] ?? 1);
      });
      candidatesOf[h] = list;
    }
  }
  const tried = halfLives.map((halfLifeMonths, h) => {
    const candidates = candidatesOf[h] ?? [];
    // The first best wins, so ties go to the simpler shape listed first.
    const best = candidates.reduce((a, b) => (mean(b.auc) > mean(a.auc) + 1e-12 ? b : a));
    const shapeAuc = (shape: ModelShape): number => candidates.filter((c) => c.shape === shape).reduce((m, c) => Math.max(m, mean(c.auc)), Number.NEGATIVE_INFINITY);
    const validation: MemberValidation = {
      halfLifeMonths,
      auc: { logistic: shapeAuc('logistic'), gbdt: shapeAuc('gbdt'), blend: shapeAuc('ensemble'), boostedLogistic: options.boostedLogistic ?? true ? shapeAuc('boosted-logistic') : null },
      shape: best.shape,
      bestAuc: mean(best.auc),
      gbdtRounds: Math.max(1, Math.round(mean(best.rounds))),
    };
    return { best, validation, index: h };
  });
  const single = [tried.reduce((a, b) => (b.validation.bestAuc > a.validation.bestAuc + 1e-12 ? b : a))];
  // Per slice, the members' mean log-odds.
  const meanMargins = (ts: typeof tried): number[][] => folds.map((fold, f) => fold.val.map((_, i) => ts.reduce((sum, t) => sum + (t.best.margins[f]?.[i] ?? 0), 0) / ts.length));
  const meanAuc = (margins: number[][]): number => mean(folds.map((fold, f) => auc(margins[f] ?? [], fold.labels)));
  const averageAuc = meanAuc(meanMargins(tried));
  const wanted = options.combine ?? 'average';
  const combine = wanted === 'auto' ? (tried.length > 1 && averageAuc > (single[0]?.validation.bestAuc ?? 0) ? 'average' : 'best') : wanted;
  const kept = combine === 'average' ? tried : single;
  const membersMargins = meanMargins(kept);

  // The plain logistic regression, stacked with the members at the weight the slices pick.
  const plainWeights = options.plainLogisticWeights ?? [0, 0.25, 0.5, 0.75, 1];
  const plainSpec = buildFeatureSpec(sorted, false);
  const fitPlain = (rs: readonly FeatureRow[]): LogisticModel => widenLogistic(fitLogistic(featureColumns(plainSpec, rs), Uint8Array.from(rs, (r) => r.label), options.logistic), specNames(spec).length);
  let plainWeight = 0;
  let valMargins = membersMargins;
  let plainReport: ValidationReport['plainLogistic'];
  if (plainWeights.length > 0) {
    const plainMargins = folds.map((fold) => {
      const model = fitPlain(fold.fit);
      return fold.x.map((x) => logisticMargin(model, x));
    });
    const stacked = plainWeights.map((w) => ({ weight: w, margins: membersMargins.map((ms, f) => ms.map((m, i) => (1 - w) * m + w * (plainMargins[f]?.[i] ?? 0))) }));
    const scored = stacked.map((c) => ({ ...c, auc: meanAuc(c.margins) }));
    // The first best wins: ties keep the weight listed first.
    const best = scored.reduce((a, b) => (b.auc > a.auc + 1e-12 ? b : a));
    let chosen = best;
    const rule = options.plainWeightRule ?? 'best';
    if (rule === 'delong') {
      // The simplest (most plain) weight whose mean AUC is not significantly below the best's.
      const notWorse = (c: (typeof scored)[number]): boolean => {
        const parts = folds.map((fold, f) => delongDifference(best.margins[f] ?? [], c.margins[f] ?? [], fold.labels));
        const difference = mean(parts.map((p) => p.difference));
        const sd = Math.sqrt(parts.reduce((sum, p) => sum + p.variance, 0)) / parts.length;
        return difference <= 0 || difference <= 1.645 * sd;
      };
      chosen = [...scored].sort((a, b) => b.weight - a.weight).find(notWorse) ?? best;
    } else if (rule === 'likelihood') {
      const w = stackingWeight(membersMargins.flat(), plainMargins.flat(), pooledLabels);
      const margins = membersMargins.map((ms, f) => ms.map((m, i) => (1 - w) * m + w * (plainMargins[f]?.[i] ?? 0)));
      chosen = { weight: w, margins, auc: meanAuc(margins) };
    }
    plainWeight = chosen.weight;
    valMargins = chosen.margins;
    plainReport = { auc: meanAuc(plainMargins), weight: plainWeight, tried: scored.map((c) => ({ weight: c.weight, auc: c.auc })) };
  }
  const calibrator = fitCalibrator(options.calibration ?? 'isotonic', valMargins.flat(), pooledLabels);
  const firstFold = folds[0];
  const trainRows = options.refit ?? true ? sorted : (firstFold?.fit ?? sorted);
  const roundScale = options.refitRounds === 'scaled' ? trainRows.length / mean(folds.map((f) => f.fit.length)) : 1;
  const members = plainWeight === 1 ? [] : kept.map(({ best, validation, index }): RiskModelMember => {
    const stage: Stage = { spec, rows: trainRows, options, gbdt: memberGbdt(index), halfLifeMonths: validation.halfLifeMonths };
    const final = fitComponents(stage, best.shape === 'boosted-logistic' ? 'boosted' : 'plain', Math.round(validation.gbdtRounds * roundScale));
    return { halfLifeMonths: validation.halfLifeMonths, shape: best.shape, weight: (1 - plainWeight) / kept.length, logistic: final.logistic, gbdt: final.gbdt.model, logisticWeight: best.logisticWeight, treeWeight: best.treeWeight };
  });
  if (plainWeight > 0) members.push({ halfLifeMonths: null, shape: 'logistic', weight: plainWeight, plain: true, logistic: fitPlain(trainRows), gbdt: { kind: 'gbdt', base: 0, trees: [] }, logisticWeight: 1, treeWeight: 0 });
  const held = folds.flatMap((f) => f.val);
  return {
    format: 'flowgate-risk-model',
    version: 1,
    spec,
    members,
    calibrator,
    training: { rows: sorted.length, positives: countPositives(sorted), from: sorted[0]?.time ?? 0, to: sorted[sorted.length - 1]?.time ?? 0 },
    validation: {
      rows: held.length,
      positives: countPositives(held),
      from: held[0]?.time ?? 0,
      to: held[held.length - 1]?.time ?? 0,
      folds: folds.map((fold, f) => ({
        fitRows: fold.fit.length,
        rows: fold.val.length,
        positives: countPositives(fold.val),
        from: fold.val[0]?.time ?? 0,
        to: fold.val[fold.val.length - 1]?.time ?? 0,
        auc: auc(valMargins[f] ?? [], fold.labels),
      })),
      members: tried.map((t) => t.validation),
      combine,
      ...(plainReport === undefined ? {} : { plainLogistic: plainReport }),
      auc: meanAuc(valMargins),
    },
  };
}

/**
 * The plain regression's stacking weight by likelihood: a logistic regression of the labels on the
 * members' and the plain regression's log-odds (Newton, a tiny ridge), w = b / (a + b) with
 * negative coefficients taken as 0 (0 when both are).
 */
function stackingWeight(members: readonly number[], plain: readonly number[], labels: ArrayLike<number>): number {
  const beta = [0, 1, 0];
  const x = (i: number): number[] => [1, members[i] ?? 0, plain[i] ?? 0];
  for (let iteration = 0; iteration < 50; iteration++) {
    const g = [0, 0, 0];
    const h = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < labels.length; i++) {
      const xi = x(i);
      const m = (beta[0] ?? 0) + (beta[1] ?? 0) * (xi[1] ?? 0) + (beta[2] ?? 0) * (xi[2] ?? 0);
      const p = 1 / (1 + Math.exp(-m));
      const w = Math.max(p * (1 - p), 1e-12);
      for (let a = 0; a < 3; a++) {
        g[a] = (g[a] ?? 0) + (p - (labels[i] ?? 0)) * (xi[a] ?? 0);
        for (let b = 0; b < 3; b++) h[a * 3 + b] = (h[a * 3 + b] ?? 0) + w * (xi[a] ?? 0) * (xi[b] ?? 0);
      }
    }
    for (let a = 0; a < 3; a++) h[a * 4] = (h[a * 4] ?? 0) + 1e-6;
    const step = solve3(h, g);
    let size = 0;
    for (let a = 0; a < 3; a++) {
      beta[a] = (beta[a] ?? 0) - (step[a] ?? 0);
      size = Math.max(size, Math.abs(step[a] ?? 0));
    }
    if (size < 1e-10) break;
  }
  const a = Math.max(beta[1] ?? 0, 0);
  const b = Math.max(beta[2] ?? 0, 0);
  // Plain Newton steps can run off on (nearly) separable slices: then keep the members alone.
  if (!Number.isFinite(a) || !Number.isFinite(b) || a + b === 0) return 0;
  return b / (a + b);
}

/** Solves the 3x3 system h * s = g (row-major h) by Cramer's rule. */
function solve3(h: readonly number[], g: readonly number[]): number[] {
  const m = (r: number, c: number): number => h[r * 3 + c] ?? 0;
  const det = (c0: number[], c1: number[], c2: number[]): number =>
    (c0[0] ?? 0) * ((c1[1] ?? 0) * (c2[2] ?? 0) - (c2[1] ?? 0) * (c1[2] ?? 0)) - (c1[0] ?? 0) * ((c0[1] ?? 0) * (c2[2] ?? 0) - (c2[1] ?? 0) * (c0[2] ?? 0)) + (c2[0] ?? 0) * ((c0[1] ?? 0) * (c1[2] ?? 0) - (c1[1] ?? 0) * (c0[2] ?? 0));
  const col = (c: number): number[] => [m(0, c), m(1, c), m(2, c)];
  const d = det(col(0), col(1), col(2));
  if (d === 0) return [0, 0, 0];
  return [det([...g], col(1), col(2)) / d, det(col(0), [...g], col(2)) / d, det(col(0), col(1), [...g]) / d];
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
        logistic: z.object({ kind: z.literal('logistic'), mean: numbers, sd: numbers, coef: numbers, intercept: z.number(), knots: z.array(numbers).optional() }),
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
  // With spline knots an input has 1 + its knots' terms, and every input has its list.
  const terms = (knots: number[][] | undefined): number => (knots === undefined ? width : knots.length === width ? knots.reduce((n, ks) => n + 1 + ks.length, 0) : -1);
  if (parsed.data.members.some((m) => m.logistic.coef.length !== terms(m.logistic.knots))) throw new FlowgateError('CONFIG_INVALID', 'The stored risk model is inconsistent (coefficients do not match its features): retrain the model.');
  return value as RiskModel;
}
