import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { syntheticRows } from './__fixtures__/synthetic.ts';
import { asKnownAt, evaluateChronological, evaluateRolling, labelAsOf } from './evaluate.ts';
import { loadJitCsv } from './jit-csv.ts';

const day = 86_400;
const quick = { halfLifeMonths: null, gbdt: { rounds: 150 } } as const;
const qtPath = '/work/shared/data/jit/qt_k_feature.csv';

describe('verification latency', () => {
  it('counts a training change as defect-inducing only once its fix is known', () => {
    const row = { id: 'a', time: 100, label: 1 as const, fixKnownAt: 500, churn: 1, features: {} };
    expect(labelAsOf(row, 499)).toBe(0);
    expect(labelAsOf(row, 500)).toBe(1);
    // External datasets carry no fix dates: their labels are taken as given.
    expect(labelAsOf({ id: 'b', time: 100, label: 1, churn: 1, features: {} }, 0)).toBe(1);
    expect(asKnownAt([row], 200)[0]?.label).toBe(0);
  });

  it('hides fixes after the cutoff from training and leaves the gap out of both sides', () => {
    const rows = syntheticRows(1200, 21, 2, 60);
    const r = evaluateChronological(rows, { gapDays: 30, model: quick });
    const testStart = rows[960]?.time ?? 0;
    expect(r.test.from).toBe(testStart);
    expect(r.test.rows).toBe(240);
    // The 30 days before the test period are in neither side.
    expect(r.train.to).toBe(testStart - 31 * day);
    expect(r.trainCutoff).toBe(r.train.to);
    const training = rows.filter((x) => x.time <= r.trainCutoff);
    const hidden = training.filter((x) => x.label === 1 && (x.fixKnownAt ?? 0) > r.trainCutoff).length;
    expect(hidden).toBeGreaterThan(0);
    expect(r.hiddenByLatency).toBe(hidden);
    expect(r.train.positives).toBe(training.filter((x) => x.label === 1).length - hidden);
  });

  it('splits at an explicit cutoff and reports every scorer side by side', () => {
    const rows = syntheticRows(1000, 8);
    const cutoff = rows[699]?.time ?? 0;
    const r = evaluateChronological(rows, { trainCutoff: cutoff, model: quick });
    expect(r.train.rows).toBe(700);
    expect(r.test.rows).toBe(300);
    for (const s of [r.model, r.baselines.laOnly, r.baselines.logistic, r.components.gbdt]) expect(s.lanes).toHaveLength(3);
    expect(r.baselines.inverseChurn.lanes).toBeNull();
    expect(r.model.brier).not.toBeNull();
    expect(r.baselines.laOnly.brier).toBeNull();
    // The synthetic label depends on `la` alone: LA-only is near the ceiling and the model close to it.
    expect(r.model.auc).toBeGreaterThan(r.baselines.laOnly.auc - 0.03);
    // The paired comparisons are of the very AUCs reported, with an interval around each gap.
    for (const [versus, baseline] of [[r.versus.logistic, r.baselines.logistic], [r.versus.laOnly, r.baselines.laOnly]] as const) {
      expect(versus.difference).toBeCloseTo(r.model.auc - baseline.auc, 10);
      expect(versus.standardError).toBeGreaterThan(0);
      expect(versus.low).toBeLessThan(versus.difference);
      expect(versus.high).toBeGreaterThan(versus.difference);
    }
  });
});

describe('evaluateRolling', () => {
  it('retrains every 3 months on at least 6 months and scores each window with the model before it', () => {
    const rows = syntheticRows(900, 13, 2, 60);
    const r = evaluateRolling(rows, { retrainMonths: 3, minTrainMonths: 6, gapDays: 14, model: quick });
    expect(r.windows.length).toBeGreaterThanOrEqual(6);
    for (const w of r.windows) {
      expect(w.train.to).toBeLessThanOrEqual(w.trainCutoff);
      expect(w.train.from).toBeLessThanOrEqual(w.trainCutoff - 6 * 30 * day);
      expect(w.test.from).toBeGreaterThan(w.trainCutoff + 14 * day);
      expect(w.test.to).toBeLessThanOrEqual(w.trainCutoff + 14 * day + 3 * 30.44 * day);
    }
    expect(r.windows[0]?.censored).toBe(false);
    expect(r.windows.at(-1)?.censored).toBe(true);
    expect(r.pooled.test.rows).toBe(r.windows.reduce((n, w) => n + w.test.rows, 0));
    expect(r.pooled.model.auc).toBeGreaterThan(0.7);
  });

  it('starts at a share of the history when asked and compares the model with the regression window by window', () => {
    const rows = syntheticRows(900, 13, 2, 60);
    const calls: [number, number][] = [];
    const r = evaluateRolling(rows, { retrainMonths: 3, startShare: 0.5, model: quick, progress: (done, total) => calls.push([done, total]) });
    // One call before each retraining, counting up against a fixed total.
    expect(calls.map(([done]) => done)).toEqual(calls.map((_, i) => i));
    expect(new Set(calls.map(([, total]) => total))).toEqual(new Set([calls.length]));
    expect(calls.length).toBeGreaterThanOrEqual(r.windows.length);
    const middle = rows[450]?.time ?? 0;
    expect(r.windows[0]?.trainCutoff).toBe(middle);
    expect(r.retrainMonths).toBe(3);
    expect(r.windows[0]?.train.rows).toBe(451);
    expect(r.windows.length).toBeGreaterThanOrEqual(4);
    // DeLong's difference is the AUC difference, so the comparison is the mean of the windows' gaps.
    const gaps = r.windows.map((w) => w.modelAuc - w.logisticAuc);
    expect(r.versus.logistic.difference).toBeCloseTo(gaps.reduce((a, b) => a + b, 0) / gaps.length, 10);
    expect(r.versus.laOnly.difference).toBeCloseTo(r.windows.reduce((a, w) => a + w.modelAuc - w.laOnlyAuc, 0) / r.windows.length, 10);
    expect(r.versus.logistic.low).toBeLessThan(r.versus.logistic.difference);
    expect(r.versus.logistic.high).toBeGreaterThan(r.versus.logistic.difference);
    for (const w of r.windows) expect(w.logisticAuc).toBeGreaterThan(0.6);
  });
});

describe.runIf(existsSync(qtPath))('on the public Qt dataset (first 3000 changes)', () => {
  it('beats the LA-only baseline on the later 20%', () => {
    const r = evaluateChronological(loadJitCsv(qtPath).slice(0, 3000));
    expect(r.test.rows).toBe(600);
    expect(r.model.auc).toBeGreaterThan(r.baselines.laOnly.auc);
  });
});
