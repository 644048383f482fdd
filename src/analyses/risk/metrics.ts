/**
 * Evaluation metrics for change-risk rankings. Where a ranking has ties, the figures are the
 * expectation over a random order inside each tie (AUC counts a tie as half; curves run straight
 * through a tied block), so a coarse ranking such as lines-added gets no lucky tie-break.
 */

/** Area under the ROC curve by mid-ranks (ties count one half); NaN when a class is absent. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] ?? 0) - (scores[b] ?? 0));
  let rankSum = 0;
  let positives = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && (scores[order[j + 1] ?? 0] ?? 0) === (scores[order[i] ?? 0] ?? 0)) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if ((labels[order[k] ?? 0] ?? 0) === 1) {
        rankSum += midRank;
        positives++;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** One point of a cumulative recall-vs-effort curve, both as shares of the totals. */
export interface EffortPoint {
  effort: number;
  recall: number;
}

/**
 * The cumulative recall-vs-effort curve when changes are inspected by decreasing `keys`; a tied
 * block is one straight segment. Starts at (0, 0), ends at (1, 1).
 */
export function effortCurve(keys: ArrayLike<number>, labels: ArrayLike<number>, effort: ArrayLike<number>): EffortPoint[] {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (keys[b] ?? 0) - (keys[a] ?? 0));
  let totalEffort = 0;
  let totalDefects = 0;
  for (let i = 0; i < n; i++) {
    totalEffort += effort[i] ?? 0;
    totalDefects += labels[i] ?? 0;
  }
  const points: EffortPoint[] = [{ effort: 0, recall: 0 }];
  if (totalEffort === 0 || totalDefects === 0) return points;
  let e = 0;
  let d = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && (keys[order[j + 1] ?? 0] ?? 0) === (keys[order[i] ?? 0] ?? 0)) j++;
    for (let k = i; k <= j; k++) {
      e += effort[order[k] ?? 0] ?? 0;
      d += labels[order[k] ?? 0] ?? 0;
    }
    points.push({ effort: e / totalEffort, recall: d / totalDefects });
    i = j + 1;
  }
  return points;
}

/** Recall reached when `budget` (a share) of the effort is spent along the curve. */
export function recallAtEffort(curve: readonly EffortPoint[], budget: number): number {
  let best = 0;
  for (let k = 1; k < curve.length; k++) {
    const p = curve[k - 1] as EffortPoint;
    const q = curve[k] as EffortPoint;
    if (q.effort <= budget) best = Math.max(best, q.recall);
    else if (p.effort <= budget) best = Math.max(best, p.recall + ((q.recall - p.recall) * (budget - p.effort)) / (q.effort - p.effort));
  }
  return best;
}

/** Effort share needed to reach `target` recall along the curve (NaN when never reached). */
export function effortAtRecall(curve: readonly EffortPoint[], target: number): number {
  for (let k = 1; k < curve.length; k++) {
    const p = curve[k - 1] as EffortPoint;
    const q = curve[k] as EffortPoint;
    if (q.recall >= target && q.recall > p.recall) return p.effort + ((q.effort - p.effort) * Math.max(target - p.recall, 0)) / (q.recall - p.recall);
  }
  return Number.NaN;
}

/** Area under a recall-vs-effort curve (trapezoids). */
export function curveArea(curve: readonly EffortPoint[]): number {
  let area = 0;
  for (let k = 1; k < curve.length; k++) {
    const p = curve[k - 1] as EffortPoint;
    const q = curve[k] as EffortPoint;
    area += ((q.effort - p.effort) * (q.recall + p.recall)) / 2;
  }
  return area;
}

/**
 * Popt (Kamei et al.): 1 - (Area(optimal) - Area(model)) / (Area(optimal) - Area(worst)), where the
 * optimal order takes defect-inducing changes first, smallest first, and the worst the reverse.
 */
export function popt(keys: ArrayLike<number>, labels: ArrayLike<number>, effort: ArrayLike<number>): number {
  const n = labels.length;
  const optimalKeys = new Float64Array(n);
  const worstKeys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = Math.max(effort[i] ?? 0, 0);
    const y = labels[i] ?? 0;
    optimalKeys[i] = y * 2 + 1 / (1 + e);
    worstKeys[i] = (1 - y) * 2 + e / (1 + e);
  }
  const optimal = curveArea(effortCurve(optimalKeys, labels, effort));
  const worst = curveArea(effortCurve(worstKeys, labels, effort));
  const model = curveArea(effortCurve(keys, labels, effort));
  return optimal === worst ? Number.NaN : 1 - (optimal - model) / (optimal - worst);
}

/** The effort-aware figures of one ranking. */
export interface EffortAwareMetrics {
  recallAt20Effort: number;
  effortAt20Recall: number;
  popt: number;
}

/** Recall@20%Effort, Effort@20%Recall and Popt for changes inspected by decreasing `keys`. */
export function effortAware(keys: ArrayLike<number>, labels: ArrayLike<number>, effort: ArrayLike<number>): EffortAwareMetrics {
  const curve = effortCurve(keys, labels, effort);
  return { recallAt20Effort: recallAtEffort(curve, 0.2), effortAt20Recall: effortAtRecall(curve, 0.2), popt: popt(keys, labels, effort) };
}

/** The auto lane at one share: the lowest-risk changes, and what went through it. */
export interface LaneRow {
  /** Share of changes sent to the auto lane. */
  autoShare: number;
  /** Changes in the lane (expected, fractional when the cut falls inside a tie). */
  changes: number;
  /** Defect-inducing changes in the lane (expected). */
  defects: number;
  /** Share of all defect-inducing changes that went through the lane. */
  escapeRate: number;
  /** Share of the lane's changes that are defect-inducing. */
  defectRateInLane: number;
}

/** The lane table: for each auto share, escapes when the lowest-`risk` changes merge automatically. */
export function laneTable(risk: ArrayLike<number>, labels: ArrayLike<number>, shares: readonly number[] = [0.3, 0.5, 0.7]): LaneRow[] {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (risk[a] ?? 0) - (risk[b] ?? 0));
  let totalDefects = 0;
  for (let i = 0; i < n; i++) totalDefects += labels[i] ?? 0;
  return shares.map((share) => {
    const target = share * n;
    let taken = 0;
    let defects = 0;
    let i = 0;
    while (i < n && taken < target) {
      let j = i;
      while (j + 1 < n && (risk[order[j + 1] ?? 0] ?? 0) === (risk[order[i] ?? 0] ?? 0)) j++;
      const size = j - i + 1;
      let blockDefects = 0;
      for (let k = i; k <= j; k++) blockDefects += labels[order[k] ?? 0] ?? 0;
      // A tie straddling the cut contributes its expected share under a random order.
      const fraction = Math.min(1, (target - taken) / size);
      taken += size * fraction;
      defects += blockDefects * fraction;
      i = j + 1;
    }
    return {
      autoShare: share,
      changes: taken,
      defects,
      escapeRate: totalDefects === 0 ? Number.NaN : defects / totalDefects,
      defectRateInLane: taken === 0 ? Number.NaN : defects / taken,
    };
  });
}

/** Mean squared error of probabilities against 0/1 outcomes. */
export function brierScore(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum += ((probabilities[i] ?? 0) - (labels[i] ?? 0)) ** 2;
  return sum / labels.length;
}

/** One bin of a reliability table. */
export interface ReliabilityBin {
  from: number;
  to: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

/** Reliability table over equal-width probability bins and the expected calibration error. */
export function reliability(probabilities: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): { ece: number; bins: ReliabilityBin[] } {
  const count = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    const p = probabilities[i] ?? 0;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b] = (count[b] ?? 0) + 1;
    sumP[b] = (sumP[b] ?? 0) + p;
    sumY[b] = (sumY[b] ?? 0) + (labels[i] ?? 0);
  }
  let ece = 0;
  const table: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const c = count[b] ?? 0;
    if (c === 0) continue;
    const meanPredicted = (sumP[b] ?? 0) / c;
    const observedRate = (sumY[b] ?? 0) / c;
    ece += (c / n) * Math.abs(meanPredicted - observedRate);
    table.push({ from: b / bins, to: (b + 1) / bins, count: c, meanPredicted, observedRate });
  }
  return { ece, bins: table };
}

/** Mid-ranks (1-based, ties share their mean rank) of the values. */
function midRanks(values: readonly number[]): Float64Array {
  const order = values.map((_, i) => i).sort((a, b) => (values[a] ?? 0) - (values[b] ?? 0));
  const ranks = new Float64Array(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1] ?? 0] === values[order[i] ?? 0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k] ?? 0] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/** DeLong's structural components of one scorer: per positive and per negative row, its share of won pairs. */
function structuralComponents(scores: ArrayLike<number>, labels: ArrayLike<number>): { positive: Float64Array; negative: Float64Array } {
  const all = Array.from({ length: labels.length }, (_, i) => scores[i] ?? 0);
  const pos = all.filter((_, i) => labels[i] === 1);
  const neg = all.filter((_, i) => labels[i] !== 1);
  const rankAll = midRanks(all);
  const rankPos = midRanks(pos);
  const rankNeg = midRanks(neg);
  const positive = new Float64Array(pos.length);
  const negative = new Float64Array(neg.length);
  let p = 0;
  let q = 0;
  for (let i = 0; i < all.length; i++) {
    if (labels[i] === 1) {
      positive[p] = ((rankAll[i] ?? 0) - (rankPos[p] ?? 0)) / neg.length;
      p++;
    } else {
      negative[q] = 1 - ((rankAll[i] ?? 0) - (rankNeg[q] ?? 0)) / pos.length;
      q++;
    }
  }
  return { positive, negative };
}

function sampleVariance(xs: ArrayLike<number>): number {
  if (xs.length < 2) return 0;
  let m = 0;
  for (let i = 0; i < xs.length; i++) m += xs[i] ?? 0;
  m /= xs.length;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += ((xs[i] ?? 0) - m) ** 2;
  return s / (xs.length - 1);
}

/**
 * DeLong's paired comparison of two scorers on the same rows (DeLong et al. 1988): AUC(a) - AUC(b)
 * and the variance of that difference, which counts the correlation of the two rankings.
 */
export function delongDifference(a: ArrayLike<number>, b: ArrayLike<number>, labels: ArrayLike<number>): { difference: number; variance: number } {
  const ca = structuralComponents(a, labels);
  const cb = structuralComponents(b, labels);
  const m = ca.positive.length;
  const n = ca.negative.length;
  if (m === 0 || n === 0) return { difference: Number.NaN, variance: Number.NaN };
  const dPos = ca.positive.map((x, i) => x - (cb.positive[i] ?? 0));
  const dNeg = ca.negative.map((x, i) => x - (cb.negative[i] ?? 0));
  let difference = 0;
  for (const x of dPos) difference += x;
  difference /= m;
  return { difference, variance: sampleVariance(dPos) / m + sampleVariance(dNeg) / n };
}
