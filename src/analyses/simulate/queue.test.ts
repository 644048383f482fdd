import { describe, expect, it } from 'vitest';
import { mmcExample } from './__fixtures__/mmc.ts';
import { erlangC } from './erlang.ts';
import { applyWhatIf, simulateQueue, simulationSeries, type QueueParams } from './queue.ts';

const mmc = mmcExample;

describe('simulateQueue', () => {
  it('agrees with the M/M/c closed form (Erlang C) within 5%', () => {
    const exact = erlangC(3 / 60, 1 / 50, 4);
    const result = simulateQueue(mmc);
    expect(result.requests).toBeGreaterThan(170_000);
    expect(Math.abs(result.wait.meanMinutes - exact.meanWait) / exact.meanWait).toBeLessThan(0.05);
    expect(Math.abs(result.wait.p90Minutes - exact.waitQuantile(0.9)) / exact.waitQuantile(0.9)).toBeLessThan(0.05);
    expect(Math.abs(result.queue.meanLength - exact.meanQueue) / exact.meanQueue).toBeLessThan(0.05);
    const utilisation = result.reviewers.reduce((s, r) => s + r.utilisation, 0) / 4;
    expect(Math.abs(utilisation - exact.utilisation)).toBeLessThan(0.01);
    // Waiting is rare enough that the median is zero, as Erlang C says (P(wait) < 0.5).
    expect(exact.pWait).toBeLessThan(0.5);
    expect(result.wait.p50Minutes).toBe(0);
  });

  it('checks the closed form itself on a textbook case', () => {
    // M/M/2 with lambda = mu = 1: P(wait) = 1/3, Wq = 1/3.
    const c = erlangC(1, 1, 2);
    expect(c.pWait).toBeCloseTo(1 / 3, 12);
    expect(c.meanWait).toBeCloseTo(1 / 3, 12);
    expect(() => erlangC(2, 1, 2)).toThrow(/unstable/);
  });

  it('is repeatable by seed and different across seeds', () => {
    const small = { ...mmc, horizonMinutes: 60 * 2000, warmupMinutes: 0 };
    expect(simulateQueue(small).wait).toEqual(simulateQueue(small).wait);
    expect(simulateQueue({ ...small, seed: 7 }).wait.meanMinutes).not.toBe(simulateQueue(small).wait.meanMinutes);
  });

  it('answers what-ifs in the expected direction', () => {
    const base = { ...mmc, horizonMinutes: 60 * 8_000 };
    const now = simulateQueue(base).wait.meanMinutes;
    const doubled = simulateQueue(applyWhatIf(base, { volumeFactor: 1.2 })).wait.meanMinutes;
    const moreAuto = simulateQueue(applyWhatIf(base, { autoShare: 0.4 }));
    const added = simulateQueue(applyWhatIf(base, { addReviewers: 1 })).wait.meanMinutes;
    const removed = simulateQueue(applyWhatIf(base, { removeReviewers: ['r4'] })).wait.meanMinutes;
    expect(doubled).toBeGreaterThan(now * 1.5);
    expect(moreAuto.wait.meanMinutes).toBeLessThan(now / 2);
    expect(moreAuto.autoRequests / (moreAuto.autoRequests + moreAuto.requests)).toBeCloseTo(0.4, 1);
    expect(added).toBeLessThan(now);
    expect(removed).toBeGreaterThan(now * 2);
    expect(() => applyWhatIf(base, { removeReviewers: ['nobody'] })).toThrow(/unknown reviewer/);
  });

  it('honours per-person open limits and tier eligibility', () => {
    const params: QueueParams = {
      seed: 3,
      horizonMinutes: 60 * 5000,
      arrivals: [
        { tier: 'standard', ratePerHour: 1 },
        { tier: 'senior', ratePerHour: 0.5 },
      ],
      service: { standard: { kind: 'exponential', meanMinutes: 40 }, senior: { kind: 'exponential', meanMinutes: 60 } },
      reviewers: [{ id: 'senior-1', tiers: ['senior', 'standard', 'light'] }, { id: 'junior-1', tiers: ['standard', 'light'] }],
    };
    const result = simulateQueue(params);
    expect(result.byTier.senior?.count).toBeGreaterThan(1000);
    // Only one person can review senior changes, so they wait longer than standard ones.
    expect(result.byTier.senior?.meanMinutes ?? 0).toBeGreaterThan(result.byTier.standard?.meanMinutes ?? Infinity);
    const limited = simulateQueue({ ...params, maxOpenPerReviewer: 1 });
    const unlimited = result;
    // With no limit every request is assigned at once to someone's personal queue; a limit of one pools them.
    expect(limited.wait.meanMinutes).toBeLessThan(unlimited.wait.meanMinutes);
    const series = simulationSeries(limited);
    expect(series.map((s) => s.name)).toEqual(['waiting requests', 'reviews in progress']);
    expect(series[1]?.points.every(([, busy]) => busy >= 0 && busy <= 2)).toBe(true);
  });

  it('replays history with pre-assigned reviewers and rejects bad parameters', () => {
    const replay = simulateQueue({
      horizonMinutes: 100,
      arrivals: { replay: [{ minute: 0, tier: 'standard', reviewer: 'a', serviceMinutes: 30 }, { minute: 10, tier: 'standard', reviewer: 'a', serviceMinutes: 30 }, { minute: 20, tier: 'auto' }] },
      service: {},
      reviewers: [{ id: 'a' }, { id: 'b' }],
    });
    expect(replay.waits).toEqual([0, 20]);
    expect(replay.sojourns).toEqual([30, 50]);
    expect(replay.autoRequests).toBe(1);
    expect(() => simulateQueue({ ...mmc, reviewers: [] })).toThrow(/at least one reviewer/);
  });

  it('keeps the delay outside a reviewer out of their capacity and out of the wait (M/D/1 by Pollaczek-Khinchine)', () => {
    // 100 minutes to done when unloaded, 20 of them the reviewer's work: capacity 3 an hour. At 2 an
    // hour the reviewer is busy 2/3 of the time and the wait is M/D/1's rho / (2 mu (1 - rho)) = 20 minutes.
    const params: QueueParams = {
      seed: 9,
      horizonMinutes: 60 * 30_000,
      warmupMinutes: 60 * 200,
      arrivals: [{ tier: 'standard', ratePerHour: 2 }],
      service: {},
      reviewers: [{ id: 'a', unloaded: { minutes: [100], effortShare: 0.2 } }],
    };
    const result = simulateQueue(params);
    expect(Math.abs((result.reviewers[0]?.utilisation ?? 0) - 2 / 3)).toBeLessThan(0.01);
    expect(Math.abs(result.wait.meanMinutes - 20) / 20).toBeLessThan(0.05);
    expect(Math.abs(result.sojourn.meanMinutes - 120) / 120).toBeLessThan(0.02);
    // Were the whole 100 minutes the reviewer's work, 2 an hour would be more than they can do.
    const whole = simulateQueue({ ...params, horizonMinutes: 60 * 2_000, reviewers: [{ id: 'a', unloaded: { minutes: [100], effortShare: 1 } }] });
    expect(whole.wait.meanMinutes).toBeGreaterThan(10 * 60);
  });
});
