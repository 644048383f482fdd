import { describe, expect, it } from 'vitest';
import { isFlowgateError } from '../../core/errors.ts';
import { syntheticRows } from './__fixtures__/synthetic.ts';
import { calibrate, fitCalibrator } from './calibration.ts';
import { buildFeatureSpec, featureColumns, featureVector, specNames } from './engineer.ts';
import { evaluateChronological } from './evaluate.ts';
import { describeModel, deserializeModel, explainRisk, fitRiskModel, predictRisk, serializeModel, type RiskModelOptions } from './learner.ts';
import { fitLogistic, logisticMargin } from './logistic.ts';
import { auc, reliability } from './metrics.ts';
import { seededRandom } from './random.ts';

// Small and quick: one half-life, few rounds are enough on synthetic data.
const quick = { halfLifeMonths: null, gbdt: { rounds: 150 } } as const;

describe('fitRiskModel', () => {
  it('separates a (nearly) separable synthetic dataset on later, unseen changes', () => {
    const rows = syntheticRows(1500, 7, 25);
    const model = fitRiskModel(rows.slice(0, 1000), quick);
    const test = rows.slice(1000);
    const scores = test.map((r) => predictRisk(model, r).margin);
    expect(auc(scores, test.map((r) => r.label))).toBeGreaterThan(0.97);
    // The label depends on `la` only: it must lead the explanation of a large change.
    const big = test.find((r) => (r.features.la ?? 0) > 200);
    expect(big).toBeDefined();
    const explanation = explainRisk(model, big!);
    expect(['la', 'la/lt', 'la/nf', 'churn', 'ld/la']).toContain(explanation[0]?.feature);
    expect(explanation[0]?.contribution).toBeGreaterThan(0);
    const magnitudes = explanation.map((c) => Math.abs(c.contribution));
    expect(magnitudes).toEqual([...magnitudes].sort((a, b) => b - a));
  });

  it('is deterministic for a seed', () => {
    const rows = syntheticRows(800, 3);
    expect(serializeModel(fitRiskModel(rows, quick))).toBe(serializeModel(fitRiskModel(rows, quick)));
  });

  it('round-trips through JSON with identical predictions and explanations', () => {
    const rows = syntheticRows(800, 5);
    const model = fitRiskModel(rows, quick);
    const copy = deserializeModel(serializeModel(model));
    for (const row of syntheticRows(50, 99)) {
      expect(predictRisk(copy, row)).toEqual(predictRisk(model, row));
      expect(explainRisk(copy, row)).toEqual(explainRisk(model, row));
    }
  });

  it('stacks the plain logistic regression when the validation slices ask for it: never below it there, the baseline itself at weight 1', () => {
    // A label that is logistic in log(la): the plain regression is the true model here.
    const rows = syntheticRows(1200, 13, 1.2);
    const model = fitRiskModel(rows, quick);
    const plain = model.validation.plainLogistic;
    expect(plain?.tried.map((t) => t.weight)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(plain?.tried.find((t) => t.weight === 1)?.auc).toBe(plain?.auc);
    expect(model.validation.auc).toBeGreaterThanOrEqual(plain!.auc);
    expect(model.validation.auc).toBe(Math.max(...plain!.tried.map((t) => t.auc)));
    const weights = model.members.reduce((sum, m) => sum + (m.weight ?? 0), 0);
    expect(weights).toBeCloseTo(1, 12);
    expect(model.members.some((m) => m.plain === true)).toBe(plain!.weight > 0);

    // At weight 1 the model is the baseline: a ridge logistic regression on the base features (no
    // ratios, no recency weights) fit on all training rows.
    const alone = fitRiskModel(rows, { ...quick, plainLogisticWeights: [1] });
    expect(alone.members).toHaveLength(1);
    expect(describeModel(alone)).toBe('plain logistic regression');
    const spec = buildFeatureSpec(rows, false);
    const baseline = fitLogistic(featureColumns(spec, rows), Uint8Array.from(rows, (r) => r.label));
    for (const row of syntheticRows(30, 77)) {
      expect(predictRisk(alone, row).margin).toBeCloseTo(logisticMargin(baseline, featureVector(spec, row.features)), 9);
    }
    // Without it, the model is the members alone, as before.
    const without = fitRiskModel(rows, { ...quick, plainLogisticWeights: [] });
    expect(without.validation.plainLogistic).toBeUndefined();
    expect(without.members.every((m) => m.plain !== true)).toBe(true);
  });

  it('picks the plain weight as asked: the simplest not significantly worse (DeLong), or by likelihood', () => {
    // The plain regression is the true model here; the best slice AUC is a blend (weight .25).
    const rows = syntheticRows(1200, 13, 1.2);
    const best = fitRiskModel(rows, quick);
    expect(best.validation.plainLogistic?.weight).toBe(0.25);
    // DeLong: the blend is not significantly better than the plain regression, so the plain one alone is kept.
    const delong = fitRiskModel(rows, { ...quick, plainWeightRule: 'delong' });
    expect(delong.validation.plainLogistic?.weight).toBe(1);
    expect(describeModel(delong)).toBe('plain logistic regression');
    expect(delong.validation.auc).toBe(delong.validation.plainLogistic?.auc);
    expect(delong.validation.auc).toBeLessThan(best.validation.auc);
    // Likelihood: a continuous weight, off the grid, shared out over the members.
    const likelihood = fitRiskModel(rows, { ...quick, plainWeightRule: 'likelihood' });
    const w = likelihood.validation.plainLogistic?.weight ?? Number.NaN;
    expect(w).toBeGreaterThan(0);
    expect(w).toBeLessThan(1);
    expect([0, 0.25, 0.5, 0.75, 1]).not.toContain(w);
    expect(likelihood.members.find((m) => m.plain === true)?.weight).toBeCloseTo(w, 12);
    expect(likelihood.members.reduce((sum, m) => sum + (m.weight ?? 0), 0)).toBeCloseTo(1, 12);
  });

  it('gives each recency member its own tree seed when asked, deterministically', () => {
    const rows = syntheticRows(900, 29, 1.5);
    // Two members with the same half-life: the same seed makes them copies, their own seeds do not.
    const twins = { ...quick, halfLifeMonths: [null, null], plainLogisticWeights: [] };
    const same = fitRiskModel(rows, twins);
    expect(same.members).toHaveLength(2);
    expect(same.members[1]?.gbdt).toEqual(same.members[0]?.gbdt);
    const own = fitRiskModel(rows, { ...twins, memberSeeds: true });
    expect(own.members[1]?.gbdt).not.toEqual(own.members[0]?.gbdt);
    expect(serializeModel(fitRiskModel(rows, { ...twins, memberSeeds: true }))).toBe(serializeModel(own));
  });

  it('bags the trees when asked: a different model, the same for a seed', () => {
    const rows = syntheticRows(900, 31, 1.5);
    const bagged = fitRiskModel(rows, { ...quick, plainLogisticWeights: [], gbdt: { ...quick.gbdt, bags: 3 } });
    const single = fitRiskModel(rows, { ...quick, plainLogisticWeights: [] });
    expect(serializeModel(bagged)).not.toBe(serializeModel(single));
    expect(serializeModel(fitRiskModel(rows, { ...quick, plainLogisticWeights: [], gbdt: { ...quick.gbdt, bags: 3 } }))).toBe(serializeModel(bagged));
  });

  it('validates on rolling time-ordered slices of the training period, each fit only on the rows before it', () => {
    const rows = syntheticRows(1500, 17, 1.5);
    const rolling = { ...quick, validationShare: 0.3, validationFolds: 3 };
    const model = fitRiskModel(rows, rolling);
    const folds = model.validation.folds ?? [];
    // The latest 30% of the training rows in three consecutive slices.
    expect(folds.map((f) => f.rows)).toEqual([150, 150, 150]);
    expect(folds.map((f) => f.fitRows)).toEqual([1050, 1200, 1350]);
    for (const [i, f] of folds.entries()) {
      // Fit on exactly the rows before the slice, and the slice right after them.
      expect(f.from).toBe(rows[f.fitRows]?.time);
      expect(f.to).toBe(rows[f.fitRows + f.rows - 1]?.time);
      if (i > 0) expect(f.fitRows).toBe((folds[i - 1]?.fitRows ?? 0) + (folds[i - 1]?.rows ?? 0));
    }
    expect(model.validation.rows).toBe(450);
    // Choices go by the AUC averaged over the slices.
    expect(model.validation.auc).toBeCloseTo(folds.reduce((s, f) => s + f.auc, 0) / folds.length, 12);
    expect(model.validation.auc).toBe(Math.max(...(model.validation.plainLogistic?.tried.map((t) => t.auc) ?? [])));

    // A short history gets fewer (here one) slices instead of no model.
    const short = fitRiskModel(syntheticRows(200, 17, 1.5), rolling);
    expect(short.validation.folds?.map((f) => f.rows)).toEqual([60]);
  });

  it('chooses and fits on training rows only: altering the test changes leaves the fitted model unchanged', () => {
    const rows = syntheticRows(1400, 19, 1.5);
    const options = { model: quick } as const;
    const before = evaluateChronological(rows, options);
    // Same times, but the test changes (latest 20%) get scrambled features and flipped labels.
    const split = Math.floor(rows.length * 0.8);
    const altered = rows.map((r, i) => (i < split ? r : { ...r, label: (1 - r.label) as 0 | 1, features: { la: r.features.ld ?? 0, ld: r.features.la ?? 0, noise: 0 } }));
    const after = evaluateChronological([...altered].reverse(), options);
    expect(after.model.auc).not.toBeCloseTo(before.model.auc, 2);
    expect(after.train).toEqual(before.train);
    expect(after.chosen).toBe(before.chosen);
    expect(after.validation).toEqual(before.validation);
    // The model itself depends on the training rows' content, not their order (folds follow time).
    const train = rows.slice(0, split);
    expect(serializeModel(fitRiskModel([...train].reverse(), quick))).toBe(serializeModel(fitRiskModel(train, quick)));
  });

  it('rejects a damaged stored model with a clear error', () => {
    const rows = syntheticRows(600, 5);
    const json = JSON.parse(serializeModel(fitRiskModel(rows, quick))) as { members: Record<string, unknown>[] };
    delete json.members[0]?.gbdt;
    expect(() => deserializeModel(JSON.stringify(json))).toThrow(/does not match the expected format \(members\.0\.gbdt/);
    expect(() => deserializeModel('{not json')).toThrow(/not valid JSON/);
  });

  it('refuses to fit on too little or one-class history', () => {
    const rows = syntheticRows(30, 1);
    try {
      fitRiskModel(rows);
      expect.fail('fitted on 30 changes');
    } catch (error) {
      expect(isFlowgateError(error, 'INSUFFICIENT_DATA')).toBe(true);
    }
    expect(() => fitRiskModel(syntheticRows(400, 1).map((r) => ({ ...r, label: 0 as const })))).toThrow(/defect-inducing/);
  });

  it('gives calibrated probabilities: mean risk near the observed rate on later changes', () => {
    const rows = syntheticRows(2000, 11, 1.5);
    const model = fitRiskModel(rows.slice(0, 1500), quick);
    const test = rows.slice(1500);
    const probabilities = test.map((r) => predictRisk(model, r).probability);
    const labels = test.map((r) => r.label);
    // Isotonic on a 300-change held-out slice: ECE .059 with the members alone, .063 with the plain
    // regression the slice now picks here.
    expect(reliability(probabilities, labels).ece).toBeLessThan(0.07);
  });
});

describe('calibration', () => {
  it('brings over-confident scores closer to observed frequencies (isotonic and Platt)', () => {
    const random = seededRandom(42);
    const draw = (n: number) =>
      Array.from({ length: n }, () => {
        const z = random() * 6 - 3;
        const label = random() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
        // The raw model is three times over-confident.
        return { margin: 3 * z, label };
      });
    const fit = draw(3000);
    const test = draw(3000);
    const labels = test.map((t) => t.label);
    const raw = reliability(test.map((t) => 1 / (1 + Math.exp(-t.margin))), labels).ece;
    for (const method of ['isotonic', 'platt'] as const) {
      const calibrator = fitCalibrator(method, fit.map((f) => f.margin), fit.map((f) => f.label));
      const calibrated = reliability(test.map((t) => calibrate(calibrator, t.margin)), labels).ece;
      expect(calibrated).toBeLessThan(raw / 2);
    }
  });
});

describe('fitRiskModel learner options (off by default)', () => {
  const rows = syntheticRows(1200, 17, 1);
  // No ratio inputs: ld/la would fall as la grows whatever the trees do.
  const trees: RiskModelOptions = { halfLifeMonths: null, derivedFeatures: false, blendWeights: [1], boostedLogistic: false, plainLogisticWeights: [], gbdt: { rounds: 120 } };

  it('passes monotoneFeatures to the trees by name: the model cannot lower risk as la grows', () => {
    const model = fitRiskModel(rows, { ...trees, monotoneFeatures: ['la', 'absent'] });
    const free = fitRiskModel(rows, trees);
    const sweep = (m: ReturnType<typeof fitRiskModel>, noise: number): number[] => Array.from({ length: 80 }, (_, k) => predictRisk(m, { features: { la: k * 5, ld: 3, noise } }).margin);
    const drops = (xs: number[]): number => xs.reduce((worst, x, k) => Math.max(worst, (xs[k - 1] ?? x) - x), 0);
    for (const noise of [1, 5, 9]) expect(drops(sweep(model, noise))).toBeLessThanOrEqual(1e-9);
    // The free trees do dip somewhere on this noisy data (else the test would prove nothing).
    expect(Math.max(...[1, 5, 9].map((noise) => drops(sweep(free, noise))))).toBeGreaterThan(1e-6);
  });

  it('fits the members\' logistic parts on a spline basis when asked, the plain regression on the plain one, and stores both', () => {
    const options: RiskModelOptions = { halfLifeMonths: null, blendWeights: [0], boostedLogistic: false, plainLogisticWeights: [0.5], splineKnots: 4, gbdt: { rounds: 60 } };
    const model = fitRiskModel(rows, options);
    const [member, plain] = model.members;
    expect(member?.logistic.knots?.length).toBe(specNames(model.spec).length);
    expect(member?.logistic.coef.length).toBeGreaterThan(specNames(model.spec).length);
    expect(plain?.plain).toBe(true);
    expect(plain?.logistic.knots).toBeUndefined();
    const copy = deserializeModel(serializeModel(model));
    for (const r of rows.slice(0, 20)) {
      expect(predictRisk(copy, r)).toEqual(predictRisk(model, r));
      const parts = explainRisk(model, r);
      expect(parts).toHaveLength(specNames(model.spec).length);
    }
    // A stored model whose knots do not match its coefficients is refused.
    const damaged = JSON.parse(serializeModel(model)) as { members: { logistic: { knots?: number[][] } }[] };
    damaged.members[0]?.logistic.knots?.[0]?.push(99);
    expect(() => deserializeModel(JSON.stringify(damaged))).toThrow(/inconsistent/);
  });

  it('scales the refit rounds by the rows when asked', () => {
    const same = fitRiskModel(rows, trees);
    const scaled = fitRiskModel(rows, { ...trees, refitRounds: 'scaled' });
    const chosen = same.validation.members[0]?.gbdtRounds ?? 0;
    const fitBefore = same.validation.folds?.[0]?.fitRows ?? 0;
    expect(same.members[0]?.gbdt.trees).toHaveLength(chosen);
    expect(scaled.members[0]?.gbdt.trees).toHaveLength(Math.round((chosen * rows.length) / fitBefore));
    expect(scaled.members[0]?.gbdt.trees.length).toBeGreaterThan(chosen);
  });

  it('keeps linearOnlyFeatures out of the trees by name: no split on them, the logistic part still reads them', () => {
    const blend: RiskModelOptions = { ...trees, blendWeights: [0.5] };
    const split = (m: ReturnType<typeof fitRiskModel>, name: string): boolean => {
      const j = specNames(m.spec).indexOf(name);
      return m.members.some((member) => member.gbdt.trees.some((t) => t.feature.includes(j)));
    };
    const free = fitRiskModel(rows, blend);
    const linear = fitRiskModel(rows, { ...blend, linearOnlyFeatures: ['la', 'absent'] });
    expect(split(free, 'la')).toBe(true);
    expect(split(linear, 'la')).toBe(false);
    // The trees still grow on what is left (here noise), so hiding la is not switching them off.
    expect(linear.members.some((member) => member.gbdt.trees.some((t) => t.feature.some((f) => f >= 0)))).toBe(true);
    const la = specNames(linear.spec).indexOf('la');
    expect(Math.abs(linear.members[0]?.logistic.coef[la] ?? 0)).toBeGreaterThan(0.05);
    // The risk still rises with la, through the regression alone.
    const at = (x: number): number => predictRisk(linear, { features: { la: x, ld: 3, noise: 5 } }).margin;
    expect(at(300)).toBeGreaterThan(at(5));
  });
});
