import { describe, expect, it } from 'vitest';
import { auc, brierScore, delongDifference, effortAtRecall, effortAware, effortCurve, laneTable, popt, recallAtEffort, reliability } from './metrics.ts';

describe('auc', () => {
  it('counts a tie between a positive and a negative as one half', () => {
    // Pairs: 0.4+ vs 0.1- wins, 0.4+ vs 0.4- ties, 0.8+ beats both: (1 + 0.5 + 2) / 4.
    expect(auc([0.1, 0.4, 0.4, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.875, 12);
  });

  it('is 1 for a perfect ranking, 0 for a reversed one, 0.5 when all scores tie, NaN with one class', () => {
    expect(auc([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
    expect(auc([4, 3, 2, 1], [0, 0, 1, 1])).toBe(0);
    expect(auc([7, 7, 7, 7], [0, 1, 0, 1])).toBe(0.5);
    expect(auc([1, 2], [1, 1])).toBeNaN();
  });
});

describe('delongDifference', () => {
  // The definition, pair by pair: psi = 1 if the positive scores higher, 1/2 on a tie.
  function byPairs(a: number[], b: number[], labels: number[]): { difference: number; variance: number } {
    const pos = labels.flatMap((l, i) => (l === 1 ? [i] : []));
    const neg = labels.flatMap((l, i) => (l === 1 ? [] : [i]));
    const psi = (s: number[], i: number, j: number): number => ((s[i] ?? 0) > (s[j] ?? 0) ? 1 : s[i] === s[j] ? 0.5 : 0);
    const v10 = pos.map((i) => neg.reduce((sum, j) => sum + psi(a, i, j) - psi(b, i, j), 0) / neg.length);
    const v01 = neg.map((j) => pos.reduce((sum, i) => sum + psi(a, i, j) - psi(b, i, j), 0) / pos.length);
    const variance = (xs: number[]): number => {
      const m = xs.reduce((s, x) => s + x, 0) / xs.length;
      return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
    };
    return { difference: v10.reduce((s, x) => s + x, 0) / pos.length, variance: variance(v10) / pos.length + variance(v01) / neg.length };
  }

  it('gives the AUC difference and the paired variance of DeLong et al., ties included', () => {
    const labels = [0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0];
    const a = [0.1, 0.9, 0.3, 0.4, 0.8, 0.4, 0.2, 0.7, 0.6, 0.1, 0.5, 0.3];
    const b = [1, 2, 2, 1, 3, 1, 2, 3, 3, 1, 2, 1];
    const d = delongDifference(a, b, labels);
    const reference = byPairs(a, b, labels);
    expect(d.difference).toBeCloseTo(auc(a, labels) - auc(b, labels), 12);
    expect(d.difference).toBeCloseTo(reference.difference, 12);
    expect(d.variance).toBeCloseTo(reference.variance, 12);
    expect(d.variance).toBeGreaterThan(0);
    // A scorer against itself: no difference, no variance.
    expect(delongDifference(a, a, labels)).toEqual({ difference: 0, variance: 0 });
  });
});

describe('effort-aware metrics', () => {
  // A (10 lines, defect), B (10, clean), C (30, defect), D (50, clean), inspected A, B, C, D.
  const keys = [0.9, 0.8, 0.5, 0.1];
  const labels = [1, 0, 1, 0];
  const effort = [10, 10, 30, 50];

  it('builds the cumulative recall-vs-effort curve', () => {
    expect(effortCurve(keys, labels, effort)).toEqual([
      { effort: 0, recall: 0 },
      { effort: 0.1, recall: 0.5 },
      { effort: 0.2, recall: 0.5 },
      { effort: 0.5, recall: 1 },
      { effort: 1, recall: 1 },
    ]);
  });

  it('reads Recall@Effort and Effort@Recall off the curve, interpolating inside a change', () => {
    const curve = effortCurve(keys, labels, effort);
    expect(recallAtEffort(curve, 0.2)).toBeCloseTo(0.5, 12);
    expect(recallAtEffort(curve, 0.3)).toBeCloseTo(0.5 + 0.5 / 3, 12);
    expect(effortAtRecall(curve, 0.2)).toBeCloseTo(0.04, 12);
    expect(effortAware(keys, labels, effort).recallAt20Effort).toBeCloseTo(0.5, 12);
  });

  it('runs straight through a tie instead of picking a lucky order', () => {
    // Both changes tie: 20% of the lines finds 20% of the single defect in expectation.
    expect(recallAtEffort(effortCurve([1, 1], [1, 0], [50, 50]), 0.2)).toBeCloseTo(0.2, 12);
  });

  it('gives Popt 1 to the optimal order and 0 to the worst', () => {
    // Optimal: defects first, smallest first: A (10), C (30), then B, D.
    expect(popt([4, 2, 3, 1], labels, effort)).toBeCloseTo(1, 12);
    // Worst: clean first, largest first: D, B, then C, A.
    expect(popt([1, 3, 2, 4], labels, effort)).toBeCloseTo(0, 12);
    const p = popt(keys, labels, effort);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
  });
});

describe('laneTable', () => {
  it('counts the defects that go through the auto lane at each share', () => {
    const risk = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const labels = [0, 0, 1, 0, 0, 0, 1, 0, 1, 1];
    const [l30, l50, l70] = laneTable(risk, labels, [0.3, 0.5, 0.7]);
    expect(l30).toMatchObject({ autoShare: 0.3, changes: 3, defects: 1, escapeRate: 0.25 });
    expect(l30?.defectRateInLane).toBeCloseTo(1 / 3, 12);
    expect(l50).toMatchObject({ changes: 5, defects: 1, escapeRate: 0.25, defectRateInLane: 0.2 });
    expect(l70).toMatchObject({ changes: 7, defects: 2, escapeRate: 0.5 });
    expect(l70?.defectRateInLane).toBeCloseTo(2 / 7, 12);
  });

  it('takes the expected share of a tie that straddles the cut', () => {
    const [half] = laneTable([5, 5, 5, 5], [1, 0, 0, 0], [0.5]);
    expect(half).toMatchObject({ changes: 2, defects: 0.5, escapeRate: 0.5, defectRateInLane: 0.25 });
  });
});

describe('calibration metrics', () => {
  it('computes the Brier score and ECE with a reliability table', () => {
    expect(brierScore([0.1, 0.9, 0.5], [0, 1, 1])).toBeCloseTo((0.01 + 0.01 + 0.25) / 3, 12);
    // Bin [0.2, 0.3): 2 changes predicted 0.25, one defect (0.5 observed); bin [0.9, 1): 0.95 vs 1.
    const r = reliability([0.25, 0.25, 0.95, 0.95], [0, 1, 1, 1], 10);
    expect(r.bins).toHaveLength(2);
    expect(r.bins[0]).toMatchObject({ count: 2, meanPredicted: 0.25, observedRate: 0.5 });
    expect(r.ece).toBeCloseTo(0.5 * 0.25 + 0.5 * 0.05, 12);
  });
});
