import { describe, expect, it } from 'vitest';
import { fitLogistic, logisticMargin } from './logistic.ts';
import { auc } from './metrics.ts';
import { seededRandom } from './random.ts';

/**
 * A heavy-tailed size-like column (70% zeros) whose top share is exactly the positives: perfectly
 * separable, with rare positives. Plain Newton steps overshoot on it until the intercept reaches ~-1e9.
 */
function separable(seed: number, n: number, positives: number, copies: number): { columns: Float64Array[]; labels: Uint8Array } {
  const rand = seededRandom(seed);
  const base = Float64Array.from({ length: n }, () => (rand() < 0.7 ? 0 : Math.floor(Math.exp(rand() * 8))));
  const threshold = [...base].sort((a, b) => b - a)[positives] ?? 0;
  const labels = Uint8Array.from(base, (v) => (v > threshold ? 1 : 0));
  return { columns: Array.from({ length: copies }, () => Float64Array.from(base)), labels };
}

function marginsOf(model: ReturnType<typeof fitLogistic>, columns: Float64Array[]): number[] {
  return Array.from(columns[0] ?? [], (_, i) => logisticMargin(model, columns.map((c) => c[i] ?? 0)));
}

describe('fitLogistic', () => {
  it('converges on perfectly separable data with rare positives instead of diverging', () => {
    const { columns, labels } = separable(27, 1409, 23, 1);
    expect(labels.reduce((s, v) => s + v, 0)).toBeGreaterThan(5);
    const model = fitLogistic(columns, labels);
    expect(Number.isFinite(model.intercept)).toBe(true);
    expect(Math.abs(model.intercept)).toBeLessThan(100);
    expect(Math.abs(model.coef[0] ?? Number.NaN)).toBeLessThan(100);
    // Separable: the fit ranks every positive above every negative, and predicts the base rate sensibly.
    const margins = marginsOf(model, columns);
    expect(auc(margins, Array.from(labels))).toBe(1);
    const meanProbability = margins.reduce((s, m) => s + 1 / (1 + Math.exp(-m)), 0) / margins.length;
    expect(meanProbability).toBeCloseTo(23 / 1409, 2);
  });

  it('converges with duplicated (perfectly collinear) columns, sharing the weight equally', () => {
    const { columns, labels } = separable(13, 1898, 59, 3);
    const model = fitLogistic(columns, labels);
    expect(Number.isFinite(model.intercept)).toBe(true);
    expect(Math.abs(model.intercept)).toBeLessThan(100);
    const [a = Number.NaN, b = Number.NaN, c = Number.NaN] = model.coef;
    expect(a).toBeGreaterThan(0);
    expect(b).toBeCloseTo(a, 6);
    expect(c).toBeCloseTo(a, 6);
    expect(auc(marginsOf(model, columns), Array.from(labels))).toBe(1);
  });

  it('still recovers an ordinary (noisy) relation', () => {
    const rand = seededRandom(5);
    const x = Float64Array.from({ length: 3000 }, () => Math.floor(rand() * 200));
    const noise = Float64Array.from({ length: 3000 }, () => Math.floor(rand() * 200));
    const labels = Uint8Array.from(x, (v) => (rand() < 1 / (1 + Math.exp(-(Math.log1p(v) - 4) * 2)) ? 1 : 0));
    const model = fitLogistic([x, noise], labels);
    expect(model.coef[0]).toBeGreaterThan(1);
    expect(Math.abs(model.coef[1] ?? Number.NaN)).toBeLessThan(0.2);
  });
});
