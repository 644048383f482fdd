import { describe, expect, it } from 'vitest';
import { syntheticRows } from './__fixtures__/synthetic.ts';
import { buildFeatureSpec, featureColumns, featureVector } from './engineer.ts';
import { fitGbdt, gbdtMargin, treeValue, type GbdtModel } from './gbdt.ts';
import { seededRandom } from './random.ts';
import { auc } from './metrics.ts';

describe('fitGbdt bagging', () => {
  const rows = syntheticRows(900, 23, 1.5);
  const spec = buildFeatureSpec(rows, false);
  const train = rows.slice(0, 600);
  const val = rows.slice(600);
  const data = { columns: featureColumns(spec, train), labels: Uint8Array.from(train, (r) => r.label) };
  const validation = { columns: featureColumns(spec, val), labels: Uint8Array.from(val, (r) => r.label) };
  const x = val.map((r) => featureVector(spec, r.features));

  it('averages ensembles fit with consecutive seeds, each early-stopped on its own', () => {
    const options = { rounds: 120, seed: 5 };
    const bagged = fitGbdt(data, { ...options, bags: 3 }, validation);
    const singles = [5, 6, 7].map((seed) => fitGbdt(data, { ...options, seed }, validation));
    expect(bagged.model.trees).toHaveLength(singles.reduce((n, s) => n + s.model.trees.length, 0));
    expect(bagged.rounds).toBe(Math.round(singles.reduce((n, s) => n + s.rounds, 0) / 3));
    for (const xi of x) {
      const average = singles.reduce((sum, s) => sum + gbdtMargin(s.model, xi), 0) / 3;
      expect(gbdtMargin(bagged.model, xi)).toBeCloseTo(average, 10);
    }
    // Different seeds give different ensembles (else bagging would average copies).
    expect(singles[0]?.model.trees[0]).not.toEqual(singles[1]?.model.trees[0]);
    // Deterministic for a seed, and still a ranking model.
    expect(fitGbdt(data, { ...options, bags: 3 }, validation)).toEqual(bagged);
    expect(auc(x.map((xi) => gbdtMargin(bagged.model, xi)), validation.labels)).toBeGreaterThan(0.7);
  });

  it('is the plain ensemble with one bag', () => {
    expect(fitGbdt(data, { rounds: 60, bags: 1 }, validation)).toEqual(fitGbdt(data, { rounds: 60 }, validation));
  });
});

describe('fitGbdt monotone constraints', () => {
  // Risk rises with x0 overall but dips in its middle third; x1 is noise the trees may also use.
  const random = seededRandom(11);
  const n = 3000;
  const x0 = Float64Array.from({ length: n }, () => random() * 30);
  const x1 = Float64Array.from({ length: n }, () => random() * 10);
  const labels = Uint8Array.from(x0, (v, i) => {
    const logit = -2 + v / 10 - (v > 10 && v < 20 ? 1.5 : 0) + ((x1[i] ?? 0) > 5 ? 0.5 : 0);
    return random() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  });
  const data = { columns: [x0, x1], labels };
  const sweep = (model: GbdtModel, other: number): number[] => Array.from({ length: 61 }, (_, k) => gbdtMargin(model, [k / 2, other]));
  const drops = (margins: number[]): number => margins.reduce((worst, m, k) => Math.max(worst, (margins[k - 1] ?? m) - m), 0);

  it('keeps every tree non-decreasing in a constrained input, whatever the other inputs', () => {
    const free = fitGbdt(data, { rounds: 150, seed: 3 });
    const bound = fitGbdt(data, { rounds: 150, seed: 3, monotone: [1, 0] });
    // Unconstrained, the trees learn the dip.
    expect(Math.max(drops(sweep(free.model, 2)), drops(sweep(free.model, 8)))).toBeGreaterThan(0.1);
    for (const other of [0, 2, 5.5, 8, 10]) expect(drops(sweep(bound.model, other))).toBeLessThanOrEqual(1e-12);
    for (const tree of bound.model.trees) for (const other of [0, 8]) expect(drops(Array.from({ length: 61 }, (_, k) => treeValue(tree, [k / 2, other])))).toBeLessThanOrEqual(1e-12);
    // Still a model: it ranks, and it still uses the free input.
    const margins = Array.from({ length: n }, (_, i) => gbdtMargin(bound.model, [x0[i] ?? 0, x1[i] ?? 0]));
    expect(auc(margins, labels)).toBeGreaterThan(0.65);
    expect(bound.model.trees.some((t) => t.feature.includes(1))).toBe(true);
  });

  it('leaves the fit unchanged when no input is constrained', () => {
    expect(fitGbdt(data, { rounds: 40, monotone: [0, 0] })).toEqual(fitGbdt(data, { rounds: 40 }));
  });

  it('never splits on a held-out input, and with none held out fits as before (column sampling too)', () => {
    const held = fitGbdt(data, { rounds: 60, seed: 3, heldOut: [1, 0] });
    expect(fitGbdt(data, { rounds: 60, seed: 3 }).model.trees.some((t) => t.feature.includes(0))).toBe(true);
    expect(held.model.trees.some((t) => t.feature.includes(0))).toBe(false);
    expect(held.model.trees.some((t) => t.feature.includes(1))).toBe(true);
    expect(fitGbdt(data, { rounds: 40, colsample: 0.3, heldOut: [0, 0] })).toEqual(fitGbdt(data, { rounds: 40, colsample: 0.3 }));
  });
});
