import { FlowgateError } from '../../core/errors.ts';

/** Maps a model's log-odds to a probability that matches observed frequencies. */
export type Calibrator =
  | { kind: 'isotonic'; /** Block centres (increasing margins) and their observed rates. */ x: number[]; y: number[] }
  | { kind: 'platt'; a: number; b: number }
  | { kind: 'sigmoid' };

export type CalibrationMethod = Calibrator['kind'];

/** The calibrated probability for one margin. */
export function calibrate(calibrator: Calibrator, margin: number): number {
  if (calibrator.kind === 'sigmoid') return 1 / (1 + Math.exp(-margin));
  if (calibrator.kind === 'platt') return 1 / (1 + Math.exp(-(calibrator.a * margin + calibrator.b)));
  const { x, y } = calibrator;
  const n = x.length;
  if (n === 0) return 0.5;
  if (margin <= (x[0] ?? 0)) return y[0] ?? 0;
  if (margin >= (x[n - 1] ?? 0)) return y[n - 1] ?? 0;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((x[mid] ?? 0) <= margin) lo = mid;
    else hi = mid;
  }
  const x0 = x[lo] ?? 0;
  const x1 = x[hi] ?? 0;
  const y0 = y[lo] ?? 0;
  const y1 = y[hi] ?? 0;
  // Interpolating between block centres keeps distinct margins distinct instead of a step function.
  return x1 === x0 ? y0 : y0 + ((y1 - y0) * (margin - x0)) / (x1 - x0);
}

/**
 * Fits a calibrator on held-out (margin, label) pairs: a chronological slice of the training data
 * the model was not fit on. Isotonic uses pool-adjacent-violators; Platt a 1-D logistic fit.
 */
export function fitCalibrator(method: CalibrationMethod, margins: ArrayLike<number>, labels: ArrayLike<number>): Calibrator {
  if (method === 'sigmoid') return { kind: 'sigmoid' };
  if (labels.length < 2) throw new FlowgateError('INSUFFICIENT_DATA', 'Too few held-out changes to calibrate the risk model: mine more history first.');
  return method === 'platt' ? fitPlatt(margins, labels) : fitIsotonic(margins, labels);
}

function fitIsotonic(margins: ArrayLike<number>, labels: ArrayLike<number>): Calibrator {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => (margins[a] ?? 0) - (margins[b] ?? 0));
  // Each block: summed margin, summed label, weight; merged while a block's rate exceeds the next's.
  const sx: number[] = [];
  const sy: number[] = [];
  const w: number[] = [];
  for (const i of order) {
    sx.push(margins[i] ?? 0);
    sy.push(labels[i] ?? 0);
    w.push(1);
    while (sy.length > 1) {
      const k = sy.length - 1;
      if ((sy[k - 1] ?? 0) / (w[k - 1] ?? 1) < (sy[k] ?? 0) / (w[k] ?? 1)) break;
      sx[k - 1] = (sx[k - 1] ?? 0) + (sx.pop() ?? 0);
      sy[k - 1] = (sy[k - 1] ?? 0) + (sy.pop() ?? 0);
      w[k - 1] = (w[k - 1] ?? 0) + (w.pop() ?? 0);
    }
  }
  return { kind: 'isotonic', x: sx.map((s, k) => s / (w[k] ?? 1)), y: sy.map((s, k) => s / (w[k] ?? 1)) };
}

function fitPlatt(margins: ArrayLike<number>, labels: ArrayLike<number>): Calibrator {
  const n = labels.length;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += labels[i] ?? 0;
  // Platt's smoothed targets keep the fit finite on separable data.
  const hiT = (pos + 1) / (pos + 2);
  const loT = 1 / (n - pos + 2);
  const target = (i: number): number => ((labels[i] ?? 0) === 1 ? hiT : loT);
  const loss = (a: number, b: number): number => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const z = a * (margins[i] ?? 0) + b;
      const t = target(i);
      // -(t log p + (1 - t) log(1 - p)), stable for large |z|.
      sum += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - t * z;
    }
    return sum;
  };
  let a = 1;
  let b = 0;
  let current = loss(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < n; i++) {
      const s = margins[i] ?? 0;
      const p = 1 / (1 + Math.exp(-(a * s + b)));
      const r = p - target(i);
      const h = p * (1 - p);
      ga += r * s;
      gb += r;
      haa += h * s * s;
      hab += h * s;
      hbb += h;
    }
    const det = haa * hbb - hab * hab;
    if (Math.abs(det) < 1e-18) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    // Newton with backtracking: a full step can overshoot when the margins are far off.
    let step = 1;
    let next = loss(a - da, b - db);
    while (next > current && step > 1e-6) {
      step /= 2;
      next = loss(a - step * da, b - step * db);
    }
    if (next > current) break;
    a -= step * da;
    b -= step * db;
    const improvement = current - next;
    current = next;
    if (improvement < 1e-10 * n) break;
  }
  return { kind: 'platt', a, b };
}
