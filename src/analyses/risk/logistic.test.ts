import { describe, expect, it } from 'vitest';
import { fitLogistic, logisticContributions, logisticMargin } from './logistic.ts';
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

describe('fitLogistic with spline knots', () => {
  // Risk peaks at middling sizes (log-odds a tent in log x), which no single coefficient on log x can follow.
  const random = seededRandom(41);
  const draw = (n: number): { columns: Float64Array[]; labels: Uint8Array } => {
    const x = Float64Array.from({ length: n }, () => Math.floor(Math.exp(random() * 8)));
    const other = Float64Array.from({ length: n }, () => random() * 100);
    const labels = Uint8Array.from(x, (v) => (random() < 1 / (1 + Math.exp(-(2 - 1.2 * Math.abs(Math.log1p(v) - 4)))) ? 1 : 0));
    return { columns: [x, other], labels };
  };
  const train = draw(3000);
  const test = draw(2000);

  it('follows a non-monotone effect that the plain fit cannot, on rows it did not see', () => {
    const plain = fitLogistic(train.columns, train.labels);
    const spline = fitLogistic(train.columns, train.labels, { knots: 4 });
    expect(plain.knots).toBeUndefined();
    expect(auc(marginsOf(spline, test.columns), test.labels)).toBeGreaterThan(auc(marginsOf(plain, test.columns), test.labels) + 0.1);
  });

  it("places distinct knots below each input's maximum and keeps one term per knot", () => {
    const constant = Float64Array.from({ length: 500 }, () => 3);
    const model = fitLogistic([train.columns[0]?.slice(0, 500) ?? new Float64Array(), constant], train.labels.slice(0, 500), { knots: 4 });
    const [sizeKnots = [], constantKnots = []] = model.knots ?? [];
    expect(sizeKnots).toHaveLength(4);
    expect(new Set(sizeKnots).size).toBe(4);
    expect(Math.max(...sizeKnots)).toBeLessThan(Math.log1p(Math.max(...(train.columns[0]?.slice(0, 500) ?? []))));
    expect(constantKnots).toEqual([]);
    expect(model.coef).toHaveLength(1 + 4 + 1);
  });

  it('splits the log-odds into per-input contributions that add up to it', () => {
    const model = fitLogistic(train.columns, train.labels, { knots: 4 });
    for (let i = 0; i < 20; i++) {
      const x = train.columns.map((c) => c[i] ?? 0);
      const parts = logisticContributions(model, x);
      expect(parts).toHaveLength(2);
      expect(model.intercept + parts.reduce((a, b) => a + b, 0)).toBeCloseTo(logisticMargin(model, x), 10);
    }
  });
});
