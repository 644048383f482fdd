import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { seedStoreFromRepo } from '../routing/__fixtures__/seed-store.ts';
import { erlangC } from './erlang.ts';
import { assignHistoricalTiers, backtestQueue, deriveReviewEvents, measureQueueParams, observationsFromEvents, recentReviewEvents, serviceSamples, type ReviewEvent } from './measure.ts';
import { simulateQueue } from './queue.ts';
import { exponential, seededRandom } from './random.ts';

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

  it('bounds a single call’s history to the latest merges before a time', async () => {
    const all = await deriveReviewEvents(store, repoId);
    const until = all[30]?.done ?? 0;
    const recent = await recentReviewEvents(store, repoId, { until, max: 5 });
    expect(recent.map((e) => e.sha)).toEqual(all.slice(25, 30).map((e) => e.sha));
    expect(await recentReviewEvents(store, repoId, { until, max: 1000 })).toHaveLength(30);
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

  it('measures capacity from busy periods and replays the observed waits', async () => {
    const events = await deriveReviewEvents(store, repoId);
    const params = measureQueueParams(events, { from: T0, to: T0 + 14 * 4 * 3600 });
    expect(params.reviewers.map((r) => r.id)).toEqual(['rita@example.com', 'sam@example.com']);
    expect(params.arrivals).toEqual([{ tier: 'standard', ratePerHour: 42 / 56 }]);
    // Each merges one an hour when working, though their reviews wait up to 170 minutes.
    expect(params.measures.map((m) => [m.capacityPerHour, m.capacitySource, m.effortShare])).toEqual([
      [1, 'busy-periods', 1],
      [1, 'busy-periods', 1],
    ]);
    expect(params.utilisation).toBeCloseTo(42 / 56 / 2, 9);
    expect(params.overloaded).toEqual([]);
    const simulated = simulateQueue({ ...params, horizonMinutes: 60 * 20_000, maxOpenPerReviewer: 1 });
    expect(simulated.sojourn.p50Minutes).toBeGreaterThanOrEqual(60);
  });

  it('backtests predicted against observed time to review on later history', async () => {
    const events = await deriveReviewEvents(store, repoId);
    // The reviewers work one request at a time, an hour each: replaying their later bursts is exact.
    const backtest = backtestQueue(events, { seed: 5, replications: 3 });
    expect(backtest.train.count).toBe(21);
    expect(backtest.window.count).toBe(21);
    expect(backtest.test.count).toBe(21);
    expect(backtest.observed.p50Minutes).toBe(115);
    expect(backtest.predicted.p50Minutes).toBeCloseTo(backtest.observed.p50Minutes, 6);
    expect(backtest.predicted.p90Minutes).toBeCloseTo(backtest.observed.p90Minutes, 6);
    expect(backtest.reviewers['rita@example.com']).toMatchObject({ capacityPerDay: 24, source: 'busy-periods', trainReviews: 12, testReviews: 9 });
    expect(backtest.overloaded).toEqual([]);
    // The training window ends at the split: a window of one day before it holds only the last six bursts' reviews.
    expect(backtestQueue(events, { windowDays: 1, replications: 1 }).window.count).toBe(18);
    expect(() => backtestQueue(events.slice(0, 12))).toThrow(/at least 10 reviews/);
  });
});

/**
 * A history generated by an M/M/c queue, independent of the simulator: Poisson arrivals, one FIFO
 * queue, c reviewers each reviewing one request at a time for an exponential time. The right answer
 * is known: arrivals `ratePerHour`, each reviewer's capacity 60 / `serviceMinutes` an hour.
 */
function mmcHistory(options: { ratePerHour: number; serviceMinutes: number; reviewers: number; count: number; seed: number }): ReviewEvent[] {
  const random = seededRandom(options.seed);
  const freeAt = Array.from({ length: options.reviewers }, () => 0);
  const events: ReviewEvent[] = [];
  let minute = 0;
  for (let i = 0; i < options.count; i++) {
    minute += exponential(random, 60 / options.ratePerHour);
    // The reviewer free first takes the head of the queue (FIFO, so requests are served in order of arrival).
    let who = 0;
    for (let r = 1; r < freeAt.length; r++) if ((freeAt[r] ?? 0) < (freeAt[who] ?? 0)) who = r;
    const start = Math.max(minute, freeAt[who] ?? 0);
    const done = start + exponential(random, options.serviceMinutes);
    freeAt[who] = done;
    events.push({
      changeId: i + 1,
      sha: i.toString(16).padStart(40, '0'),
      prNumber: i + 1,
      reviewer: `r${who + 1}`,
      authors: ['dev@example.com'],
      author: { name: 'Dev', email: 'dev@example.com', login: null },
      provenance: { class: 'human', tool: null },
      arrival: T0 + minute * 60,
      done: T0 + done * 60,
      tier: 'standard',
      tierSource: 'default',
      files: [],
    });
  }
  return events;
}

describe('measurement on a synthetic M/M/c history', () => {
  // M/M/4, 3 requests an hour, 50-minute reviews: utilisation 0.625, so a third of requests wait.
  const events = mmcHistory({ ratePerHour: 3, serviceMinutes: 50, reviewers: 4, count: 20_000, seed: 11 });
  const from = T0;
  const to = Math.max(...events.map((e) => e.arrival)) + 1;

  it('recovers the arrival rate and each reviewer’s service rate from times that include waiting', () => {
    const params = measureQueueParams(events, { from, to, knownAt: Infinity });
    expect(params.arrivals).toHaveLength(1);
    expect(Math.abs((params.arrivals[0]?.ratePerHour ?? 0) - 3) / 3).toBeLessThan(0.03);
    expect(params.measures.map((m) => m.id)).toEqual(['r1', 'r2', 'r3', 'r4']);
    for (const m of params.measures) {
      expect(m.capacitySource).toBe('busy-periods');
      expect(Math.abs(m.capacityPerHour - 1.2) / 1.2).toBeLessThan(0.05);
      // The unloaded times are the reviews themselves: no delay outside the reviewer.
      expect(m.effortShare).toBeGreaterThan(0.93);
    }
    expect(Math.abs(params.utilisation - 0.625)).toBeLessThan(0.03);
    expect(params.overloaded).toEqual([]);
    // Simulated from what was measured, the queue waits as Erlang C says for the measured rates (a
    // wait amplifies rate errors: at this load 1.6% more work means ~7% more waiting, so the check is
    // against the measured rates, not the generating ones).
    const lambda = (params.arrivals[0]?.ratePerHour ?? 0) / 60;
    const serviceMean = params.measures.reduce((s, m) => s + 60 / m.capacityPerHour, 0) / 4;
    const measuredExact = erlangC(lambda, 1 / serviceMean, 4);
    const simulated = simulateQueue({ ...params, horizonMinutes: 60 * 20_000, warmupMinutes: 60 * 200, maxOpenPerReviewer: 1 });
    expect(Math.abs(simulated.wait.meanMinutes - measuredExact.meanWait) / measuredExact.meanWait).toBeLessThan(0.1);
    const exact = erlangC(3 / 60, 1 / 50, 4);
    expect(Math.abs(simulated.wait.meanMinutes - exact.meanWait) / exact.meanWait).toBeLessThan(0.25);
    // Times to done, which include the queue's waits, would overstate the review time:
    const meanSojourn = events.reduce((s, e) => s + (e.done - e.arrival) / 60, 0) / events.length;
    expect(meanSojourn).toBeGreaterThan(50 + exact.meanWait * 0.8);
  });

  it('says when the measured queue is unstable', () => {
    // One reviewer, 1.2 requests an hour for 1 an hour of capacity: the queue grows for good.
    const overloaded = mmcHistory({ ratePerHour: 1.2, serviceMinutes: 60, reviewers: 1, count: 3_000, seed: 3 });
    const end = Math.max(...overloaded.map((e) => e.arrival)) + 1;
    const params = measureQueueParams(overloaded, { from: T0, to: end, knownAt: Infinity });
    expect(params.utilisation).toBeGreaterThan(1.1);
    expect(params.overloaded).toEqual(['r1']);
    expect(Math.abs((params.measures[0]?.capacityPerHour ?? 0) - 1)).toBeLessThan(0.05);
  });
});
