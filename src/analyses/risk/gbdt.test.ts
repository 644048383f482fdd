import { describe, expect, it } from 'vitest';
import { syntheticRows } from './__fixtures__/synthetic.ts';
import { buildFeatureSpec, featureColumns, featureVector } from './engineer.ts';
import { fitGbdt, gbdtMargin } from './gbdt.ts';
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
