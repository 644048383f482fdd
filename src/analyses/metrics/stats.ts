/** Small statistics used by the metrics; all pure functions over plain numbers. */

const day = 86_400;
/** Seconds in a week. */
export const weekSeconds = 7 * day;

/** The q-quantile (0..1) of values by linear interpolation between order statistics; null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? a;
  return a + (b - a) * (pos - lo);
}

/** The median (0.5-quantile); null when empty. */
export function median(values: readonly number[]): number | null {
  return quantile(values, 0.5);
}

/** The arithmetic mean; null when empty. */
export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Keeps the numbers, drops nulls. */
export function present(values: readonly (number | null)[]): number[] {
  const out: number[] = [];
  for (const v of values) if (v !== null) out.push(v);
  return out;
}

/** A proportion with its 95% confidence interval. */
export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

const z95 = 1.959963984540054;

/** Wilson score interval (95%) for `successes` out of `n`; null when n is 0. */
export function wilson(successes: number, n: number, z = z95): Interval | null {
  if (n === 0) return null;
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Newcombe's hybrid score interval (method 10, 1998) for the difference of two independent
 * proportions p1 - p2, built from each side's Wilson interval; null when either side is empty.
 */
export function newcombe(x1: number, n1: number, x2: number, n2: number, z = z95): Interval | null {
  const a = wilson(x1, n1, z);
  const b = wilson(x2, n2, z);
  if (a === null || b === null) return null;
  const d = a.estimate - b.estimate;
  const low = d - Math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2);
  const high = d + Math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2);
  return { estimate: d, low, high };
}

/** Gini coefficient of non-negative amounts (0 = evenly spread, towards 1 = one holds all). */
export function gini(amounts: readonly number[]): number | null {
  const n = amounts.length;
  if (n === 0) return null;
  const sorted = [...amounts].sort((a, b) => a - b);
  let total = 0;
  let weighted = 0;
  sorted.forEach((v, i) => {
    total += v;
    weighted += (i + 1) * v;
  });
  if (total === 0) return 0;
  return (2 * weighted) / (n * total) - (n + 1) / n;
}

/** Least-squares slope of y over x = 0, 1, 2, ...; null with fewer than two points. */
export function slope(values: readonly number[]): number | null {
  const n = values.length;
  if (n < 2) return null;
  const xMean = (n - 1) / 2;
  const yMean = (mean(values) ?? 0);
  let num = 0;
  let den = 0;
  values.forEach((y, x) => {
    num += (x - xMean) * (y - yMean);
    den += (x - xMean) ** 2;
  });
  return den === 0 ? 0 : num / den;
}

/** Start (Monday 00:00 UTC) of the week containing `t` (Unix seconds). */
export function weekStart(t: number): number {
  const days = Math.floor(t / day);
  // 1970-01-01 was a Thursday: shift so that Monday is day 0 of a week.
  const weekday = (days + 3) % 7;
  return (days - weekday) * day;
}

/** The week starts covering [from, to). */
export function weeksBetween(from: number, to: number): number[] {
  const out: number[] = [];
  for (let w = weekStart(from); w < to; w += weekSeconds) out.push(w);
  return out;
}

/** `YYYY-MM-DD` of Unix seconds (UTC). */
export function isoDay(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 10);
}

/** Relative change b vs a (0.25 = +25%); null when a is 0 or either is missing. */
export function relativeChange(a: number | null, b: number | null): number | null {
  if (a === null || b === null || a === 0) return null;
  return (b - a) / a;
}
