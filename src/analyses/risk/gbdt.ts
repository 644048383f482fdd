import { FlowgateError } from '../../core/errors.ts';
import { seededRandom } from './random.ts';

/**
 * One regression tree in flat arrays (compact JSON). Node k is a leaf when feature[k] is -1;
 * otherwise x[feature] <= threshold goes to left[k], else right[k]. value[k] is the node's
 * (shrunken) Newton estimate, kept on inner nodes too for path-based (Saabas) attributions.
 */
export interface Tree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
}

/** A fitted gradient-boosted tree ensemble for log-loss. */
export interface GbdtModel {
  kind: 'gbdt';
  /** Log-odds of the training base rate. */
  base: number;
  trees: Tree[];
}

export interface GbdtOptions {
  /** Upper bound on boosting rounds; with a validation slice, early stopping picks fewer. */
  rounds?: number;
  learningRate?: number;
  maxDepth?: number;
  /** Quantile bins per input, fit on the training rows only (at most 255). */
  maxBins?: number;
  /** L2 penalty on leaf values. */
  l2?: number;
  minChildSamples?: number;
  minChildHessian?: number;
  /** Share of rows each tree sees (stochastic boosting). */
  subsample?: number;
  /** Share of inputs each tree may split on. */
  colsample?: number;
  /** Rounds without validation improvement before stopping. */
  patience?: number;
  seed?: number;
}

export interface GbdtFit {
  model: GbdtModel;
  /** Rounds kept (the best on validation, or all without validation). */
  rounds: number;
  /** Validation log-loss of the kept model (null without validation). */
  validationLogLoss: number | null;
}

const defaults: Required<GbdtOptions> = {
  rounds: 800,
  learningRate: 0.05,
  maxDepth: 3,
  maxBins: 64,
  l2: 1,
  minChildSamples: 40,
  minChildHessian: 2,
  subsample: 0.8,
  colsample: 0.8,
  patience: 60,
  seed: 1,
};

/** Quantile cut points of one column: x <= edges[b] falls in bin <= b. */
export function quantileEdges(column: ArrayLike<number>, maxBins: number): number[] {
  const sorted = Float64Array.from(column).sort();
  const uniques: number[] = [];
  for (const x of sorted) if (uniques.length === 0 || uniques[uniques.length - 1] !== x) uniques.push(x);
  if (uniques.length <= maxBins) return uniques.slice(0, -1);
  const edges: number[] = [];
  const last = uniques[uniques.length - 1];
  for (let q = 1; q < maxBins; q++) {
    const x = sorted[Math.floor((q * sorted.length) / maxBins)] ?? 0;
    if (x !== last && (edges.length === 0 || (edges[edges.length - 1] ?? 0) < x)) edges.push(x);
  }
  return edges;
}

function binColumn(column: ArrayLike<number>, edges: readonly number[]): Uint8Array {
  const out = new Uint8Array(column.length);
  for (let i = 0; i < column.length; i++) {
    const x = column[i] ?? 0;
    let lo = 0;
    let hi = edges.length;
    // Count of edges strictly below x.
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((edges[mid] ?? 0) < x) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo;
  }
  return out;
}

/** The tree's output for one raw input vector. */
export function treeValue(tree: Tree, x: ArrayLike<number>): number {
  let k = 0;
  for (;;) {
    const f = tree.feature[k] ?? -1;
    if (f < 0) return tree.value[k] ?? 0;
    k = (x[f] ?? 0) <= (tree.threshold[k] ?? 0) ? (tree.left[k] ?? 0) : (tree.right[k] ?? 0);
  }
}

/** The ensemble's log-odds for one raw input vector. */
export function gbdtMargin(model: GbdtModel, x: ArrayLike<number>): number {
  let m = model.base;
  for (const tree of model.trees) m += treeValue(tree, x);
  return m;
}

/**
 * Saabas path attributions: each split on the way to the leaf credits its feature with the change
 * in node value. They sum, with `bias`, to the margin exactly.
 */
export function gbdtContributions(model: GbdtModel, x: ArrayLike<number>, width: number): { bias: number; contributions: number[] } {
  const contributions = new Array<number>(width).fill(0);
  let bias = model.base;
  for (const tree of model.trees) {
    let k = 0;
    bias += tree.value[0] ?? 0;
    for (;;) {
      const f = tree.feature[k] ?? -1;
      if (f < 0) break;
      const next = (x[f] ?? 0) <= (tree.threshold[k] ?? 0) ? (tree.left[k] ?? 0) : (tree.right[k] ?? 0);
      contributions[f] = (contributions[f] ?? 0) + (tree.value[next] ?? 0) - (tree.value[k] ?? 0);
      k = next;
    }
  }
  return { bias, contributions };
}

function logLoss(margins: ArrayLike<number>, labels: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const m = margins[i] ?? 0;
    // log(1 + e^-m) for y=1, log(1 + e^m) for y=0, computed stably.
    const s = (labels[i] ?? 0) === 1 ? -m : m;
    sum += s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
  }
  return sum / labels.length;
}

interface Grower {
  bins: Uint8Array[];
  edges: number[][];
  grad: Float64Array;
  hess: Float64Array;
  features: number[];
  o: Required<GbdtOptions>;
}

/** Grows one tree depth-first on the given row indices. */
function growTree(g: Grower, rows: Uint32Array): Tree {
  const tree: Tree = { feature: [], threshold: [], left: [], right: [], value: [] };
  const { o } = g;
  const grow = (idx: Uint32Array, depth: number): number => {
    let G = 0;
    let H = 0;
    for (const i of idx) {
      G += g.grad[i] ?? 0;
      H += g.hess[i] ?? 0;
    }
    const k = tree.feature.length;
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push((-G / (H + o.l2)) * o.learningRate);
    if (depth >= o.maxDepth || idx.length < 2 * o.minChildSamples) return k;
    const parentScore = (G * G) / (H + o.l2);
    let best = { gain: 1e-9, feature: -1, bin: -1 };
    for (const f of g.features) {
      const edges = g.edges[f] ?? [];
      if (edges.length === 0) continue;
      const col = g.bins[f] as Uint8Array;
      const nb = edges.length + 1;
      const hg = new Float64Array(nb);
      const hh = new Float64Array(nb);
      const hc = new Uint32Array(nb);
      for (const i of idx) {
        const b = col[i] ?? 0;
        hg[b] = (hg[b] ?? 0) + (g.grad[i] ?? 0);
        hh[b] = (hh[b] ?? 0) + (g.hess[i] ?? 0);
        hc[b] = (hc[b] ?? 0) + 1;
      }
      let gl = 0;
      let hl = 0;
      let cl = 0;
      for (let b = 0; b < nb - 1; b++) {
        gl += hg[b] ?? 0;
        hl += hh[b] ?? 0;
        cl += hc[b] ?? 0;
        const cr = idx.length - cl;
        if (cl < o.minChildSamples || hl < o.minChildHessian) continue;
        if (cr < o.minChildSamples || H - hl < o.minChildHessian) break;
        const gr = G - gl;
        const hr = H - hl;
        const gain = (gl * gl) / (hl + o.l2) + (gr * gr) / (hr + o.l2) - parentScore;
        if (gain > best.gain) best = { gain, feature: f, bin: b };
      }
    }
    if (best.feature < 0) return k;
    const col = g.bins[best.feature] as Uint8Array;
    let nLeft = 0;
    for (const i of idx) if ((col[i] ?? 0) <= best.bin) nLeft++;
    const leftIdx = new Uint32Array(nLeft);
    const rightIdx = new Uint32Array(idx.length - nLeft);
    let a = 0;
    let c = 0;
    for (const i of idx) {
      if ((col[i] ?? 0) <= best.bin) leftIdx[a++] = i;
      else rightIdx[c++] = i;
    }
    tree.feature[k] = best.feature;
    tree.threshold[k] = (g.edges[best.feature] ?? [])[best.bin] ?? 0;
    tree.left[k] = grow(leftIdx, depth + 1);
    tree.right[k] = grow(rightIdx, depth + 1);
    return k;
  };
  grow(rows, 0);
  return tree;
}

/** The tree's output for row i of column-major inputs. */
function treeValueAt(tree: Tree, columns: readonly Float64Array[], i: number): number {
  let k = 0;
  for (;;) {
    const f = tree.feature[k] ?? -1;
    if (f < 0) return tree.value[k] ?? 0;
    k = ((columns[f] as Float64Array)[i] ?? 0) <= (tree.threshold[k] ?? 0) ? (tree.left[k] ?? 0) : (tree.right[k] ?? 0);
  }
}

/**
 * Fits boosted trees for log-loss. Bins are fit on the training columns only; with `validation`
 * (a later slice of the training period, never test data) boosting stops early at the best round.
 */
export function fitGbdt(columns: readonly Float64Array[], labels: ArrayLike<number>, options: GbdtOptions = {}, validation?: { columns: readonly Float64Array[]; labels: ArrayLike<number> }): GbdtFit {
  const o = { ...defaults, ...options };
  const n = labels.length;
  if (n === 0) throw new FlowgateError('INSUFFICIENT_DATA', 'No training rows to fit the tree model on: mine more history first.');
  const random = seededRandom(o.seed);
  const edges = columns.map((col) => quantileEdges(col, Math.min(o.maxBins, 255)));
  const bins = columns.map((col, j) => binColumn(col, edges[j] ?? []));
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] ?? 0;
  const rate = Math.min(Math.max(positives / n, 1e-6), 1 - 1e-6);
  const base = Math.log(rate / (1 - rate));
  const margin = new Float64Array(n).fill(base);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const trees: Tree[] = [];
  const valMargin = validation === undefined ? null : new Float64Array(validation.labels.length).fill(base);
  let bestLoss = valMargin === null || validation === undefined ? null : logLoss(valMargin, validation.labels);
  let bestRounds = 0;
  const width = columns.length;
  for (let round = 0; round < o.rounds; round++) {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-(margin[i] ?? 0)));
      grad[i] = p - (labels[i] ?? 0);
      hess[i] = Math.max(p * (1 - p), 1e-12);
    }
    const picked: number[] = [];
    for (let i = 0; i < n; i++) if (o.subsample >= 1 || random() < o.subsample) picked.push(i);
    const features: number[] = [];
    for (let j = 0; j < width; j++) if (o.colsample >= 1 || random() < o.colsample) features.push(j);
    if (features.length === 0) features.push(Math.floor(random() * width));
    const tree = growTree({ bins, edges, grad, hess, features, o }, Uint32Array.from(picked));
    trees.push(tree);
    for (let i = 0; i < n; i++) margin[i] = (margin[i] ?? 0) + treeValueAt(tree, columns, i);
    if (valMargin === null || validation === undefined || bestLoss === null) {
      bestRounds = trees.length;
      continue;
    }
    for (let i = 0; i < valMargin.length; i++) valMargin[i] = (valMargin[i] ?? 0) + treeValueAt(tree, validation.columns, i);
    const loss = logLoss(valMargin, validation.labels);
    if (loss < bestLoss - 1e-7) {
      bestLoss = loss;
      bestRounds = trees.length;
    } else if (trees.length - bestRounds >= o.patience) break;
  }
  return { model: { kind: 'gbdt', base, trees: trees.slice(0, bestRounds) }, rounds: bestRounds, validationLogLoss: bestLoss };
}
