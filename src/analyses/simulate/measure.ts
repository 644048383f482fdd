import { FlowgateError } from '../../core/errors.ts';
import type { ProvenanceClass } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';
import type { ReviewObservation } from '../routing/estimate.ts';
import { reviewTiers, type ReviewTier } from '../routing/select.ts';
import type { ArrivalStream, QueueParams, ReplayArrival, SimReviewer } from './queue.ts';
import { simulateQueue } from './queue.ts';
import { mean, quantile } from './random.ts';

/**
 * One review as history shows it. Until review events are imported (migration 0002), it is derived
 * from merge commits: the request arrives with the branch's last commit, the merger is the reviewer,
 * and it is done when merged. Times are Unix seconds, wall clock (nights and weekends included).
 */
export interface ReviewEvent {
  changeId: number;
  /** The merge commit. */
  sha: string;
  prNumber: number | null;
  reviewer: string;
  authors: string[];
  /** The first brought-in commit's author, as the gate would see the change's author. */
  author: { name: string; email: string; login: string | null };
  provenance: { class: ProvenanceClass; tool: string | null };
  arrival: number;
  done: number;
  /** The tier the change had: the recorded gate decision, else the policy's rules, else `standard` (see `tierSource`). */
  tier: ReviewTier;
  tierSource: TierSource;
  files: { path: string; added: number | null; deleted: number | null }[];
}

/** Where a historical change's tier came from. */
export type TierSource = 'decision' | 'policy' | 'default';

/**
 * The tier a historical change was reviewed at. A change the policy would now put in the `auto`
 * lane was still reviewed by someone then, so for measuring reviews it counts as `light`.
 */
export function reviewedTier(tier: ReviewTier): ReviewTier {
  return tier === 'auto' ? 'light' : tier;
}

/** Review events derived from the merge changes in the store (oldest first); `tierOf` defaults every change to `standard` (assignHistoricalTiers sets the real ones). */
export async function deriveReviewEvents(
  store: Store,
  repoId: number,
  options: { since?: number; until?: number; tierOf?: (changeId: number) => ReviewTier } = {},
): Promise<ReviewEvent[]> {
  const db = store.db;
  let query = db
    .selectFrom('changes as c')
    .innerJoin('change_commits as cc', 'cc.change_id', 'c.id')
    .innerJoin('identities as m', 'm.id', 'c.author_id')
    .innerJoin('identities as a', 'a.id', 'cc.author_id')
    .select([
      'c.id as changeId',
      'c.sha',
      'c.pr_number as prNumber',
      'c.provenance',
      'c.tool',
      'c.commit_time as done',
      'm.key as merger',
      'm.kind as mergerKind',
      'a.key as author',
      'a.name as authorName',
      'a.email as authorEmail',
      'a.github_login as authorLogin',
      'cc.author_time as authorTime',
    ])
    .where('c.repo_id', '=', repoId)
    .where('c.kind', 'in', ['merge', 'octopus']);
  if (options.since !== undefined) query = query.where('c.commit_time', '>=', options.since);
  if (options.until !== undefined) query = query.where('c.commit_time', '<', options.until);
  const rows = await query.orderBy('c.commit_time').orderBy('c.id').execute();
  const byChange = new Map<number, ReviewEvent>();
  for (const row of rows) {
    if (row.mergerKind !== 'person') continue; // a bot merging is automation, not review
    let event = byChange.get(row.changeId);
    if (event === undefined) {
      const tier = options.tierOf?.(row.changeId);
      event = {
        changeId: row.changeId,
        sha: row.sha,
        prNumber: row.prNumber,
        reviewer: row.merger,
        authors: [],
        author: { name: row.authorName, email: row.authorEmail, login: row.authorLogin },
        provenance: { class: row.provenance, tool: row.tool },
        arrival: row.authorTime,
        done: row.done,
        tier: tier ?? 'standard',
        tierSource: tier === undefined ? 'default' : 'policy',
        files: [],
      };
      byChange.set(row.changeId, event);
    }
    if (!event.authors.includes(row.author)) event.authors.push(row.author);
    event.arrival = Math.max(event.arrival, row.authorTime);
  }
  const events = [...byChange.values()].filter((e) => e.done >= e.arrival);
  const ids = events.map((e) => e.changeId);
  for (let i = 0; i < ids.length; i += 500) {
    const files = await db.selectFrom('change_files').select(['change_id as changeId', 'path', 'added', 'deleted']).where('change_id', 'in', ids.slice(i, i + 500)).execute();
    for (const f of files) byChange.get(f.changeId)?.files.push({ path: f.path, added: f.added, deleted: f.deleted });
  }
  return events;
}

/**
 * The review events of the latest `max` merges before `until` (oldest first): a bounded history for
 * a single routing call, whose cost (tiers by the policy's rules per change) grows with history.
 */
export async function recentReviewEvents(store: Store, repoId: number, options: { until: number; max?: number; tierOf?: (changeId: number) => ReviewTier }): Promise<ReviewEvent[]> {
  const max = Math.max(1, Math.floor(options.max ?? 2000));
  const boundary = await store.db
    .selectFrom('changes')
    .select('commit_time')
    .where('repo_id', '=', repoId)
    .where('kind', 'in', ['merge', 'octopus'])
    .where('commit_time', '<', options.until)
    .orderBy('commit_time', 'desc')
    .limit(1)
    .offset(max - 1)
    .executeTakeFirst();
  return deriveReviewEvents(store, repoId, { until: options.until, ...(boundary === undefined ? {} : { since: boundary.commit_time }), ...(options.tierOf === undefined ? {} : { tierOf: options.tierOf }) });
}

/**
 * Sets each event's tier to the one its change had: the latest gate decision recorded for it in
 * `decisions` (by merge sha, or by `#<pr>@` in the subject), else `ruleTier(event)` (the policy's
 * rules, supplied by the caller, which owns the policy), else `standard`. Returns how many came
 * from each source and how many landed in each tier.
 */
export async function assignHistoricalTiers(
  store: Pick<Store, 'db'>,
  repoId: number,
  events: ReviewEvent[],
  options: { ruleTier?: ((event: ReviewEvent) => ReviewTier) | undefined } = {},
): Promise<{ bySource: Record<TierSource, number>; byTier: Record<ReviewTier, number> }> {
  const decided = await store.db
    .selectFrom('decisions')
    .select(['subject', 'tier'])
    .where('repo_id', '=', repoId)
    .where('tier', 'is not', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const bySha = new Map<string, ReviewTier>();
  const byPr = new Map<number, ReviewTier>();
  for (const d of decided) {
    const tier = reviewTiers.find((t) => t === d.tier);
    if (tier === undefined) continue;
    // Later decisions overwrite earlier ones: the last decision on a pull request is the one it merged under.
    const pr = /#(\d+)@/.exec(d.subject);
    if (pr !== null) byPr.set(Number(pr[1]), tier);
    else bySha.set(d.subject.toLowerCase(), tier);
  }
  const bySource: Record<TierSource, number> = { decision: 0, policy: 0, default: 0 };
  const byTier: Record<ReviewTier, number> = { auto: 0, light: 0, standard: 0, senior: 0 };
  for (const event of events) {
    const recorded = bySha.get(event.sha.toLowerCase()) ?? (event.prNumber === null ? undefined : byPr.get(event.prNumber));
    if (recorded !== undefined) {
      event.tier = recorded;
      event.tierSource = 'decision';
    } else if (options.ruleTier !== undefined) {
      event.tier = options.ruleTier(event);
      event.tierSource = 'policy';
    } else {
      event.tier = 'standard';
      event.tierSource = 'default';
    }
    bySource[event.tierSource] += 1;
    byTier[event.tier] += 1;
  }
  return { bySource, byTier };
}

/** Review observations for the estimate: the wall-clock minutes of each derived review (a proxy until real review events exist), at the tier the change had. */
export function observationsFromEvents(events: readonly ReviewEvent[]): ReviewObservation[] {
  return events.map((e) => ({ time: e.done, change: { files: e.files, tier: reviewedTier(e.tier) }, minutes: (e.done - e.arrival) / 60 })).filter((o) => o.minutes > 0);
}

/** What one reviewer's history says about their capacity and their reviews' unloaded times (see measureReviewers). */
export interface ReviewerMeasure {
  id: string;
  /** Their reviews that arrived in the window and were done by its end. */
  reviews: number;
  arrivalsPerHour: number;
  /**
   * Reviews they can complete an hour when working: their throughput over their busy periods, each
   * review taken one at a time in order of completion (review i took done_i - max(arrival_i,
   * done_{i-1})), each counted at most `maxReviewHours` (a longer stretch is time away, not review).
   * Exact for a reviewer who works one at a time, an upper bound on effort (so a lower bound on
   * capacity) otherwise. Reviewers with fewer than `minReviews` get the median of the others when
   * larger (a few reviews say little about capacity).
   */
  capacityPerHour: number;
  capacitySource: 'busy-periods' | 'pooled';
  /** Time to done of their reviews that found them with nothing else open (minutes): no wait for them. Pooled when they have too few. */
  unloadedMinutes: number[];
  unloadedSource: 'own' | 'pooled';
  /** Share of the unloaded time that is their own work: (1 / capacity) / mean(unloaded), at most 1. The rest is spent outside them. */
  effortShare: number;
  /** arrivals / capacity over the window: at 1 or more their queue grows without bound. */
  utilisation: number;
  /** Mean number of reviews they held open over the window (time average; Little's law: arrivals x time to done). */
  meanHeld: number;
}

const HOUR = 3600;
const DAY = 86_400;

/** Time-average number of intervals [arrival, done) open over [from, to). */
function meanOpen(events: readonly ReviewEvent[], from: number, to: number): number {
  let area = 0;
  for (const e of events) area += Math.max(0, Math.min(e.done, to) - Math.max(e.arrival, from));
  return area / Math.max(1, to - from);
}

/**
 * Measures each reviewer's capacity from their throughput while working, not from times to done
 * (which are mostly waiting on the author, CI or the reviewer's other work): see ReviewerMeasure.
 * Only reviews that arrived in [from, to) and were done by `knownAt` (default: `to`) count, so a
 * backtest never sees its test period.
 */
export function measureReviewers(
  events: readonly ReviewEvent[],
  options: { from: number; to: number; knownAt?: number; minReviews?: number; minUnloaded?: number; maxReviewHours?: number },
): Map<string, ReviewerMeasure> {
  const maxReview = (options.maxReviewHours ?? 8) * HOUR;
  const knownAt = options.knownAt ?? options.to;
  const minReviews = options.minReviews ?? 20;
  const minUnloaded = options.minUnloaded ?? 20;
  const hours = (options.to - options.from) / HOUR;
  const byReviewer = new Map<string, ReviewEvent[]>();
  for (const e of events) {
    if (e.done > knownAt) continue;
    const list = byReviewer.get(e.reviewer) ?? [];
    list.push(e);
    byReviewer.set(e.reviewer, list);
  }
  const inWindow = (e: ReviewEvent): boolean => e.arrival >= options.from && e.arrival < options.to;
  const raw = new Map<string, { reviews: ReviewEvent[]; busy: number; unloaded: number[] }>();
  for (const [id, all] of byReviewer) {
    const reviews = all.filter(inWindow);
    if (reviews.length === 0) continue;
    const byDone = [...all].sort((a, b) => a.done - b.done || a.arrival - b.arrival);
    let previousDone = -Infinity;
    let busy = 0;
    for (const e of byDone) {
      if (inWindow(e)) busy += Math.min(maxReview, e.done - Math.max(e.arrival, previousDone));
      previousDone = Math.max(previousDone, e.done);
    }
    // Unloaded: nothing of theirs that arrived earlier was still open when this one arrived.
    const byArrival = [...all].sort((a, b) => a.arrival - b.arrival || a.done - b.done);
    let openUntil = -Infinity;
    const unloaded: number[] = [];
    for (const e of byArrival) {
      if (inWindow(e) && e.arrival >= openUntil) unloaded.push((e.done - e.arrival) / 60);
      openUntil = Math.max(openUntil, e.done);
    }
    raw.set(id, { reviews, busy, unloaded });
  }
  const pooledUnloaded = [...raw.values()].flatMap((r) => r.unloaded);
  const fallbackUnloaded = pooledUnloaded.length > 0 ? pooledUnloaded : [...raw.values()].flatMap((r) => r.reviews.map((e) => (e.done - e.arrival) / 60));
  const ownCapacity = new Map<string, number>();
  for (const [id, r] of raw) ownCapacity.set(id, r.busy > 0 ? r.reviews.length / (r.busy / HOUR) : Infinity);
  const finite = [...raw.entries()].map(([id, r]) => ({ n: r.reviews.length, perHour: ownCapacity.get(id) ?? Infinity })).filter((c) => Number.isFinite(c.perHour));
  const wellMeasured = finite.filter((c) => c.n >= minReviews).map((c) => c.perHour);
  const pooledCapacity = quantile(wellMeasured.length > 0 ? wellMeasured : finite.map((c) => c.perHour), 0.5);
  const measures = new Map<string, ReviewerMeasure>();
  for (const [id, r] of [...raw.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const own = ownCapacity.get(id) ?? Infinity;
    const pooled = (r.reviews.length < minReviews && pooledCapacity > own) || !Number.isFinite(own);
    const capacityPerHour = pooled && Number.isFinite(pooledCapacity) ? pooledCapacity : own;
    const unloadedMinutes = r.unloaded.length >= minUnloaded ? r.unloaded : fallbackUnloaded;
    const arrivalsPerHour = r.reviews.length / hours;
    measures.set(id, {
      id,
      reviews: r.reviews.length,
      arrivalsPerHour,
      capacityPerHour,
      capacitySource: pooled ? 'pooled' : 'busy-periods',
      unloadedMinutes,
      unloadedSource: r.unloaded.length >= minUnloaded ? 'own' : 'pooled',
      effortShare: Math.min(1, 60 / capacityPerHour / Math.max(1e-9, mean(unloadedMinutes))),
      utilisation: arrivalsPerHour / capacityPerHour,
      meanHeld: meanOpen(r.reviews, options.from, Math.min(options.to, knownAt)),
    });
  }
  return measures;
}

/** A simulated reviewer from a measure: one review worked at a time, unloaded times split into delay and effort. */
export function simReviewerFrom(measure: Pick<ReviewerMeasure, 'id' | 'unloadedMinutes' | 'effortShare'>): SimReviewer {
  return { id: measure.id, parallel: 1, unloaded: { minutes: measure.unloadedMinutes, effortShare: measure.effortShare } };
}

/** A reviewer with no history in the window: the median capacity and the pooled unloaded times of those measured. */
export function typicalReviewer(measures: ReadonlyMap<string, ReviewerMeasure>, id: string): ReviewerMeasure {
  const list = [...measures.values()];
  const capacityPerHour = quantile(list.map((m) => m.capacityPerHour), 0.5);
  const own = list.filter((m) => m.unloadedSource === 'own').flatMap((m) => m.unloadedMinutes);
  const unloadedMinutes = own.length > 0 ? own : (list[0]?.unloadedMinutes ?? []);
  return {
    id,
    reviews: 0,
    arrivalsPerHour: 0,
    capacityPerHour,
    capacitySource: 'pooled',
    unloadedMinutes,
    unloadedSource: 'pooled',
    effortShare: Math.min(1, 60 / capacityPerHour / Math.max(1e-9, mean(unloadedMinutes))),
    utilisation: 0,
    meanHeld: 0,
  };
}

/** Service samples per reviewer when each reviews one request at a time: the sojourns of requests that found them idle. */
export function serviceSamples(events: readonly ReviewEvent[]): Map<string, number[]> {
  const from = Math.min(...events.map((e) => e.arrival));
  const to = Math.max(...events.map((e) => e.arrival)) + 1;
  const known = Math.max(...events.map((e) => e.done));
  return new Map([...measureReviewers(events, { from, to, knownAt: known, minUnloaded: 0 })].map(([id, m]) => [id, m.unloadedMinutes]));
}

/** Measured queue parameters, and whether the measured queue is stable. */
export interface MeasuredQueue extends QueueParams {
  arrivals: ArrivalStream[];
  reviewers: SimReviewer[];
  measures: ReviewerMeasure[];
  /** Total arrivals over total capacity: at 1 or more the queue grows without bound. */
  utilisation: number;
  /** Reviewers whose own arrivals meet or exceed their capacity. */
  overloaded: string[];
}

/**
 * Measured queue parameters from review events arriving in [from, to): arrival rates per tier, and
 * per reviewer their capacity and unloaded times (measureReviewers).
 */
export function measureQueueParams(events: readonly ReviewEvent[], options: { from: number; to: number; knownAt?: number; seed?: number }): MeasuredQueue {
  const window = events.filter((e) => e.arrival >= options.from && e.arrival < options.to);
  if (window.length < 10) {
    throw new FlowgateError('INSUFFICIENT_DATA', `Only ${window.length} reviews in the measured window; at least 10 are needed. Widen --days or import review events.`);
  }
  const hours = (options.to - options.from) / HOUR;
  const tiers = new Map<ReviewTier, number>();
  for (const e of window) tiers.set(reviewedTier(e.tier), (tiers.get(reviewedTier(e.tier)) ?? 0) + 1);
  const measures = [...measureReviewers(events, options).values()];
  if (measures.length === 0) throw new FlowgateError('INSUFFICIENT_DATA', 'No review in the measured window was done by its end. Widen --days or import review events.');
  const pooled = measures.flatMap((m) => m.unloadedMinutes);
  const service: QueueParams['service'] = {};
  for (const tier of tiers.keys()) service[tier] = { kind: 'empirical', minutes: pooled };
  const arrivalRate = window.length / hours;
  const capacity = measures.reduce((s, m) => s + m.capacityPerHour, 0);
  // Overload counts every arrival, done or not: a queue that grows leaves its latest reviews open.
  const arrivalsOf = new Map<string, number>();
  for (const e of window) arrivalsOf.set(e.reviewer, (arrivalsOf.get(e.reviewer) ?? 0) + 1);
  return {
    seed: options.seed ?? 1,
    horizonMinutes: hours * 60,
    arrivals: [...tiers.entries()].map(([tier, count]) => ({ tier, ratePerHour: count / hours })),
    service,
    reviewers: measures.map(simReviewerFrom),
    measures,
    utilisation: arrivalRate / capacity,
    overloaded: measures.filter((m) => (arrivalsOf.get(m.id) ?? 0) / hours >= m.capacityPerHour).map((m) => m.id),
  };
}

/** Predicted against observed time-to-review on a later window. */
export interface QueueBacktest {
  /** All reviews before the split; `window` is the recent part the parameters were measured on. */
  train: { count: number; from: number; to: number };
  window: { count: number; from: number; to: number; days: number };
  test: { count: number; from: number; to: number };
  replications: number;
  /** Per reviewer of the test period: measured capacity (reviews a day), its source, and their utilisation when replayed (test arrivals / capacity). */
  reviewers: Record<string, { capacityPerDay: number; source: ReviewerMeasure['capacitySource']; trainReviews: number; testReviews: number; utilisation: number }>;
  /** Test-period reviewers whose replayed arrivals meet or exceed their measured capacity (the model queues without bound for them). */
  overloaded: string[];
  /** Mean simulated utilisation over the test reviewers (work time / time). */
  simulatedUtilisation: number;
  predicted: { meanMinutes: number; p50Minutes: number; p90Minutes: number };
  observed: { meanMinutes: number; p50Minutes: number; p90Minutes: number };
  /** The older half's own percentiles, used as the prediction: what the simulation must beat. */
  naive: { meanMinutes: number; p50Minutes: number; p90Minutes: number };
  /** The measured window's own percentiles (reviews done by the split): the recency-only prediction. */
  naiveWindow: { meanMinutes: number; p50Minutes: number; p90Minutes: number };
}

/**
 * Backtest: measure reviewers on the recent part of the older history (`windowDays` before the
 * split, only reviews done by the split), replay the later part's arrivals (each to its actual
 * reviewer) through the simulator, and compare the predicted time from request to done with what
 * was observed. Nothing of the later part is used to fit.
 */
export function backtestQueue(
  events: readonly ReviewEvent[],
  options: { trainShare?: number; seed?: number; replications?: number; windowDays?: number; minReviews?: number } = {},
): QueueBacktest {
  const sorted = [...events].sort((a, b) => a.arrival - b.arrival);
  const cut = Math.floor(sorted.length * (options.trainShare ?? 0.5));
  const train = sorted.slice(0, cut);
  const test = sorted.slice(cut);
  if (train.length < 10 || test.length < 10) {
    throw new FlowgateError('INSUFFICIENT_DATA', `A backtest needs at least 10 reviews on each side of the split; history has ${train.length} and ${test.length}.`);
  }
  const start = test[0]?.arrival ?? 0;
  const end = Math.max(...test.map((e) => e.done));
  const windowDays = options.windowDays ?? 90;
  const from = Math.max(train[0]?.arrival ?? 0, start - windowDays * DAY);
  const measures = measureReviewers(train, { from, to: start, knownAt: start, ...(options.minReviews === undefined ? {} : { minReviews: options.minReviews }) });
  if (measures.size === 0) throw new FlowgateError('INSUFFICIENT_DATA', `No review arrived in the ${windowDays} days before the split and was done by it; widen the window.`);
  const testIds = [...new Set(test.map((e) => e.reviewer))].sort();
  const used = testIds.map((id) => measures.get(id) ?? typicalReviewer(measures, id));
  const replay: ReplayArrival[] = test.map((e) => ({ minute: (e.arrival - start) / 60, tier: reviewedTier(e.tier), reviewer: e.reviewer }));
  const replications = options.replications ?? 20;
  const predicted: number[] = [];
  let simulatedUtilisation = 0;
  for (let i = 0; i < replications; i++) {
    const result = simulateQueue({
      seed: (options.seed ?? 1) + i,
      horizonMinutes: (end - start) / 60 + 1,
      arrivals: { replay },
      service: {},
      reviewers: used.map(simReviewerFrom),
      sampleEveryMinutes: (end - start) / 60 + 1,
    });
    predicted.push(...result.sojourns);
    simulatedUtilisation += mean(result.reviewers.map((r) => r.utilisation)) / replications;
  }
  const testHours = Math.max(1, (Math.max(...test.map((e) => e.arrival)) - start) / HOUR);
  const testCounts = new Map<string, number>();
  for (const e of test) testCounts.set(e.reviewer, (testCounts.get(e.reviewer) ?? 0) + 1);
  const reviewers: QueueBacktest['reviewers'] = {};
  for (const m of used) {
    const testReviews = testCounts.get(m.id) ?? 0;
    reviewers[m.id] = { capacityPerDay: m.capacityPerHour * 24, source: m.capacitySource, trainReviews: m.reviews, testReviews, utilisation: testReviews / testHours / m.capacityPerHour };
  }
  const minutes = (list: readonly ReviewEvent[]): number[] => list.map((e) => (e.done - e.arrival) / 60);
  const summary = (values: number[]) => ({ meanMinutes: mean(values), p50Minutes: quantile(values, 0.5), p90Minutes: quantile(values, 0.9) });
  const windowEvents = train.filter((e) => e.arrival >= from && e.done <= start);
  return {
    train: { count: train.length, from: train[0]?.arrival ?? 0, to: start },
    window: { count: windowEvents.length, from, to: start, days: windowDays },
    test: { count: test.length, from: start, to: end },
    replications,
    reviewers,
    overloaded: Object.entries(reviewers).filter(([, r]) => r.utilisation >= 1).map(([id]) => id),
    simulatedUtilisation,
    predicted: summary(predicted),
    observed: summary(minutes(test)),
    naive: summary(minutes(train)),
    naiveWindow: summary(minutes(windowEvents)),
  };
}
