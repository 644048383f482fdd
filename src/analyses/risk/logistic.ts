import { FlowgateError } from '../../core/errors.ts';
import { signedLog1p } from './engineer.ts';

/** A fitted L2-regularised logistic regression on log-transformed, standardised inputs. */
export interface LogisticModel {
  kind: 'logistic';
  /** Per input, mean and standard deviation of signedLog1p(x) on the training rows. */
  mean: number[];
  sd: number[];
  coef: number[];
  intercept: number;
  /**
   * Spline knots per input, in log space (absent: one term per input). With knots, input j has the
   * terms log(1 + x), then max(0, log(1 + x) - k) for each of its knots, in that order, and
   * mean, sd and coef are per term.
   */
  knots?: number[][];
}

export interface LogisticOptions {
  /** L2 penalty on the coefficients (not the intercept), in the units of the summed log-likelihood. */
  l2?: number;
  maxIterations?: number;
  /** Hinges per input at quantile knots of the training rows (a linear spline in log space); 0: none. */
  knots?: number;
}

/** Standardised input j of a raw value, with the training scaler. */
function standardise(model: Pick<LogisticModel, 'mean' | 'sd'>, j: number, raw: number): number {
  return (signedLog1p(raw) - (model.mean[j] ?? 0)) / (model.sd[j] ?? 1);
}

/** Quantile knots of one log-transformed column: at q / (count + 1), distinct, below its maximum (a hinge there is always 0). */
function quantileKnots(logs: Float64Array, count: number): number[] {
  const sorted = Float64Array.from(logs).sort();
  const top = sorted[sorted.length - 1] ?? 0;
  const knots: number[] = [];
  for (let q = 1; q <= count; q++) {
    const k = sorted[Math.floor((q / (count + 1)) * sorted.length)] ?? top;
    if (k < top && knots[knots.length - 1] !== k) knots.push(k);
  }
  return knots;
}

/** Each input's terms for a raw vector, before standardising: its log value, then one hinge per knot. */
function splineTerms(knots: readonly (readonly number[])[], x: ArrayLike<number>): number[] {
  const terms: number[] = [];
  for (const [j, ks] of knots.entries()) {
    const t = signedLog1p(x[j] ?? 0);
    terms.push(t);
    for (const k of ks) terms.push(Math.max(0, t - k));
  }
  return terms;
}

/** The smallest L2 penalty used: separable data would otherwise send the coefficients to infinity. */
const minRidge = 1e-3;

/** log(1 + e^m) without overflow. */
function softplus(m: number): number {
  return m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
}

/**
 * Fits by Newton's method (IRLS) with step halving: each step must lower the penalised negative
 * log-likelihood (Armijo), so separable data, duplicated (collinear) columns or a saturated start
 * cannot make it overshoot and diverge. The scaler is fit on these (training) rows only.
 */
export function fitLogistic(columns: readonly Float64Array[], labels: ArrayLike<number>, options: LogisticOptions = {}, weights?: ArrayLike<number>): LogisticModel {
  const n = labels.length;
  const l2 = Math.max(options.l2 ?? 1, minRidge);
  const maxIterations = options.maxIterations ?? 50;
  if (n === 0) throw new FlowgateError('INSUFFICIENT_DATA', 'No training rows to fit the logistic model on: mine more history first.');
  const mean: number[] = [];
  const sd: number[] = [];
  const logs = columns.map((col) => Float64Array.from(col, signedLog1p));
  const knots = (options.knots ?? 0) > 0 ? logs.map((t) => quantileKnots(t, options.knots ?? 0)) : undefined;
  const terms = knots === undefined ? logs : logs.flatMap((t, j) => [t, ...(knots[j] ?? []).map((k) => Float64Array.from(t, (v) => Math.max(0, v - k)))]);
  const p = terms.length;
  const z = terms.map((t) => {
    let m = 0;
    for (const x of t) m += x;
    m /= n;
    let s = 0;
    for (const x of t) s += (x - m) ** 2;
    // A constant column gets sd 1 so it standardises to 0 instead of NaN.
    const sdev = Math.sqrt(s / n) || 1;
    mean.push(m);
    sd.push(sdev);
    return t.map((x) => (x - m) / sdev);
  });
  const margin = (w: Float64Array, i: number): number => {
    let m = w[0] ?? 0;
    for (let j = 0; j < p; j++) m += (w[j + 1] ?? 0) * ((z[j] as Float64Array)[i] ?? 0);
    return m;
  };
  // The penalised negative log-likelihood Newton minimises.
  const objective = (w: Float64Array): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const m = margin(w, i);
      f += (weights?.[i] ?? 1) * (softplus(m) - (labels[i] ?? 0) * m);
    }
    for (let a = 1; a <= p; a++) f += 0.5 * l2 * (w[a] ?? 0) ** 2;
    return f;
  };
  // w[0] is the intercept; w[1..p] the coefficients.
  let w = new Float64Array(p + 1);
  let prior = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    prior += (weights?.[i] ?? 1) * (labels[i] ?? 0);
    total += weights?.[i] ?? 1;
  }
  const rate = Math.min(Math.max(prior / Math.max(total, 1e-12), 1e-6), 1 - 1e-6);
  w[0] = Math.log(rate / (1 - rate));
  let current = objective(w);
  const size = p + 1;
  for (let iter = 0; iter < maxIterations; iter++) {
    const grad = new Float64Array(size);
    const hess = new Float64Array(size * size);
    const xi = new Float64Array(size);
    xi[0] = 1;
    for (let i = 0; i < n; i++) {
      let m = w[0] ?? 0;
      for (let j = 0; j < p; j++) {
        const x = (z[j] as Float64Array)[i] ?? 0;
        xi[j + 1] = x;
        m += (w[j + 1] ?? 0) * x;
      }
      const prob = 1 / (1 + Math.exp(-m));
      const wi = weights?.[i] ?? 1;
      const r = wi * (prob - (labels[i] ?? 0));
      const h = wi * Math.max(prob * (1 - prob), 1e-10);
      for (let a = 0; a < size; a++) {
        const xa = xi[a] ?? 0;
        grad[a] = (grad[a] ?? 0) + r * xa;
        const ha = h * xa;
        for (let b = 0; b <= a; b++) hess[a * size + b] = (hess[a * size + b] ?? 0) + ha * (xi[b] ?? 0);
      }
    }
    for (let a = 1; a < size; a++) {
      grad[a] = (grad[a] ?? 0) + l2 * (w[a] ?? 0);
      hess[a * size + a] = (hess[a * size + a] ?? 0) + l2;
    }
    // The intercept is not penalised; a saturated fit leaves its curvature near zero, so the
    // direction gets a little of it (the step is still checked against the objective below).
    hess[0] = (hess[0] ?? 0) + 1e-6 * Math.max(total, 1);
    for (let a = 0; a < size; a++) for (let b = 0; b < a; b++) hess[b * size + a] = hess[a * size + b] ?? 0;
    const step = solveSymmetric(hess, grad, size);
    let slope = 0;
    for (let a = 0; a < size; a++) slope += (grad[a] ?? 0) * (step[a] ?? 0);
    // Not a descent direction (numerically): fall back to the gradient.
    const direction = slope > 0 ? step : grad;
    if (slope <= 0) slope = grad.reduce((sum, g) => sum + g * g, 0);
    let t = 1;
    let next = w;
    let value = current;
    for (let halvings = 0; halvings < 40; halvings++, t /= 2) {
      const candidate = Float64Array.from(w, (v, a) => v - t * (direction[a] ?? 0));
      const f = objective(candidate);
      if (Number.isFinite(f) && f <= current - 1e-4 * t * slope) {
        next = candidate;
        value = f;
        break;
      }
    }
    let change = 0;
    for (let a = 0; a < size; a++) change = Math.max(change, Math.abs((next[a] ?? 0) - (w[a] ?? 0)));
    const improvement = current - value;
    w = next;
    current = value;
    if (change < 1e-8 || improvement <= 1e-12 * Math.max(1, Math.abs(current))) break;
  }
  return { kind: 'logistic', mean, sd, coef: Array.from(w.subarray(1)), intercept: w[0] ?? 0, ...(knots === undefined ? {} : { knots }) };
}

/** Solves A x = b for a symmetric positive-definite A (Cholesky), with a small ridge if needed. */
function solveSymmetric(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j] ?? 0;
      for (let k = 0; k < j; k++) sum -= (l[i * n + k] ?? 0) * (l[j * n + k] ?? 0);
      if (i === j) l[i * n + i] = Math.sqrt(Math.max(sum, 1e-12));
      else l[i * n + j] = sum / (l[j * n + j] ?? 1);
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i] ?? 0;
    for (let k = 0; k < i; k++) sum -= (l[i * n + k] ?? 0) * (y[k] ?? 0);
    y[i] = sum / (l[i * n + i] ?? 1);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i] ?? 0;
    for (let k = i + 1; k < n; k++) sum -= (l[k * n + i] ?? 0) * (x[k] ?? 0);
    x[i] = sum / (l[i * n + i] ?? 1);
  }
  return x;
}

/** The model's log-odds for one raw input vector. */
export function logisticMargin(model: LogisticModel, x: ArrayLike<number>): number {
  let m = model.intercept;
  if (model.knots !== undefined) return logisticContributions(model, x).reduce((sum, c) => sum + c, m);
  for (let j = 0; j < model.coef.length; j++) m += (model.coef[j] ?? 0) * standardise(model, j, x[j] ?? 0);
  return m;
}

/** Per-input contributions to the log-odds (coef * standardised value, summed over an input's spline terms), relative to the training mean. */
export function logisticContributions(model: LogisticModel, x: ArrayLike<number>): number[] {
  if (model.knots === undefined) return model.coef.map((c, j) => c * standardise(model, j, x[j] ?? 0));
  const out: number[] = [];
  let b = 0;
  const terms = splineTerms(model.knots, x);
  for (const ks of model.knots) {
    let sum = 0;
    for (let r = 0; r <= ks.length; r++, b++) sum += ((model.coef[b] ?? 0) * ((terms[b] ?? 0) - (model.mean[b] ?? 0))) / (model.sd[b] ?? 1);
    out.push(sum);
  }
  return out;
}
