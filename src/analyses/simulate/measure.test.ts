import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { seedStoreFromRepo } from '../routing/__fixtures__/seed-store.ts';
import { assignHistoricalTiers, backtestQueue, deriveReviewEvents, measureQueueParams, observationsFromEvents, serviceSamples } from './measure.ts';
import { simulateQueue } from './queue.ts';

const T0 = 1_700_000_000;
const reviewers = [
  { name: 'Rita', email: 'rita@example.com' },
  { name: 'Sam', email: 'sam@example.com' },
];
let repo: RepoBuilder;

/**
 * 14 bursts of three pull requests, five minutes apart, each burst to one reviewer who merges them
 * one after another, an hour each: sojourns of 60, 115 and 170 minutes, a FIFO queue in plain sight.
 */
function buildRepo(): void {
  repo = new RepoBuilder();
  repo.write('README.md', 'x\n').commit('init', { time: T0 - 3600 });
  for (let i = 0; i < 42; i++) {
    const group = Math.floor(i / 3);
    const reviewer = reviewers[group % 2]!;
    const arrival = T0 + group * 4 * 3600 + (i % 3) * 300;
    const done = T0 + group * 4 * 3600 + ((i % 3) + 1) * 3600;
    repo.checkout(`pr-${i}`, true);
    repo.write(`src/f${i}.ts`, `export const v = ${i};\n`).commit(`change ${i}`, { author: { name: `Dev${i % 5}`, email: `dev${i % 5}@example.com` }, time: arrival });
    repo.checkout('main');
    repo.merge(`pr-${i}`, `Merge pull request #${i + 1} from acme/pr-${i}`, { author: reviewer, time: done });
  }
}

beforeAll(buildRepo);
afterAll(() => repo.dispose());

describe.each(storeKinds)('review events and backtest on %s', (kind) => {
  let store: TestStore;
  let repoId: number;
  beforeAll(async () => {
    store = await openTestStore(kind);
    repoId = await seedStoreFromRepo(store, repo.dir);
  });
  afterAll(async () => store.dispose());

  it('derives review events from merges: arrival, reviewer, done, files', async () => {
    const events = await deriveReviewEvents(store, repoId);
    expect(events).toHaveLength(42);
    expect(events.slice(0, 3).map((e) => (e.done - e.arrival) / 60)).toEqual([60, 115, 170]);
    expect(events[0]?.reviewer).toBe('rita@example.com');
    expect(events[3]?.reviewer).toBe('sam@example.com');
    expect(events[0]?.files.map((f) => f.path)).toEqual(['src/f0.ts']);
    expect(observationsFromEvents(events)).toHaveLength(42);
    // Only the first of each burst found its reviewer idle: its sojourn is the service time.
    expect([...serviceSamples(events).values()].flat().every((m) => m === 60)).toBe(true);
  });

  it('gives each historical change its recorded tier, else the policy rules’ tier', async () => {
    const events = await deriveReviewEvents(store, repoId);
    const [first, second] = events;
    await store.db.insertInto('decisions').values({ repo_id: repoId, subject: first?.sha ?? '', outcome: 'needs-review', tier: 'light', decision: '{}', created_at: T0 }).execute();
    await store.db.insertInto('decisions').values({ repo_id: repoId, subject: first?.sha ?? '', outcome: 'needs-review', tier: 'senior', decision: '{}', created_at: T0 + 1 }).execute();
    // Another repository's decision on the same sha is not this one's.
    await store.db.insertInto('decisions').values({ repo_id: repoId + 1000, subject: second?.sha ?? '', outcome: 'pass', tier: 'light', decision: '{}', created_at: T0 }).execute();
    const counts = await assignHistoricalTiers(store, repoId, events, { ruleTier: (e) => (e.files.some((f) => f.path.endsWith('f1.ts')) ? 'auto' : 'standard') });
    expect(counts.bySource).toEqual({ decision: 1, policy: 41, default: 0 });
    expect(counts.byTier).toEqual({ auto: 1, light: 0, standard: 40, senior: 1 });
    expect([first?.tier, first?.tierSource, second?.tier, second?.tierSource]).toEqual(['senior', 'decision', 'auto', 'policy']);
    // An auto-lane change of the past was still reviewed: its observation is at light.
    expect(observationsFromEvents(events).map((o) => o.change.tier).slice(0, 3)).toEqual(['senior', 'light', 'standard']);
    await assignHistoricalTiers(store, repoId, events);
    expect(events[2]?.tierSource).toBe('default');
    await store.db.deleteFrom('decisions').execute();
  });

  it('measures queue parameters that reproduce the observed waits', async () => {
    const events = await deriveReviewEvents(store, repoId);
    const params = measureQueueParams(events, { from: T0, to: T0 + 14 * 4 * 3600, parallel: 1 });
    expect(params.reviewers.map((r) => r.id)).toEqual(['rita@example.com', 'sam@example.com']);
    expect(params.arrivals).toEqual([{ tier: 'standard', ratePerHour: 42 / 56 }]);
    const simulated = simulateQueue({ ...params, horizonMinutes: 60 * 20_000, maxOpenPerReviewer: 1 });
    expect(simulated.sojourn.p50Minutes).toBeGreaterThanOrEqual(60);
  });

  it('backtests predicted against observed time to review on later history', async () => {
    const events = await deriveReviewEvents(store, repoId);
    // The fixture's reviewers work one request at a time: with that known, the replay is exact.
    const backtest = backtestQueue(events, { seed: 5, replications: 3, parallel: 1 });
    expect(backtest.train.count).toBe(21);
    expect(backtest.test.count).toBe(21);
    expect(backtest.observed.p50Minutes).toBe(115);
    expect(backtest.predicted.p50Minutes).toBeCloseTo(backtest.observed.p50Minutes, 6);
    expect(backtest.predicted.p90Minutes).toBeCloseTo(backtest.observed.p90Minutes, 6);
    expect(backtest.parallel).toEqual({ 'rita@example.com': 1, 'sam@example.com': 1 });
    // Measured, a burst of three open reviews reads as three at once: no queueing, sojourns resampled.
    const measured = backtestQueue(events, { seed: 5, replications: 3 });
    expect(measured.parallel['rita@example.com']).toBe(3);
    expect(measured.predicted.p50Minutes).toBeGreaterThanOrEqual(60);
    expect(() => backtestQueue(events.slice(0, 12))).toThrow(/at least 10 reviews/);
  });
});
