import { FlowgateError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import type { ReviewObservation } from '../routing/estimate.ts';
import type { ReviewTier } from '../routing/select.ts';
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
  reviewer: string;
  authors: string[];
  arrival: number;
  done: number;
  tier: ReviewTier;
  files: { path: string; added: number | null; deleted: number | null }[];
}

/** Review events derived from the merge changes in the store (oldest first); `tierOf` defaults every change to `standard`. */
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
    .select(['c.id as changeId', 'c.commit_time as done', 'm.key as merger', 'm.kind as mergerKind', 'a.key as author', 'cc.author_time as authorTime'])
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
      event = { changeId: row.changeId, reviewer: row.merger, authors: [], arrival: row.authorTime, done: row.done, tier: options.tierOf?.(row.changeId) ?? 'standard', files: [] };
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

/** Review observations for the estimate: the wall-clock minutes of each derived review (a proxy until real review events exist). */
export function observationsFromEvents(events: readonly ReviewEvent[]): ReviewObservation[] {
  return events.map((e) => ({ time: e.done, change: { files: e.files, tier: e.tier }, minutes: (e.done - e.arrival) / 60 })).filter((o) => o.minutes > 0);
}

/** How many reviews each reviewer works on at once: a fixed number, or `measured` from history. */
export type Parallelism = number | 'measured';

/**
 * Per reviewer: how many reviews they hold at once (the 90th percentile of their open reviews seen
 * at each arrival, when `measured`) and service samples: the time to done of requests that arrived
 * while they had a free slot (no wait, so the sojourn is the service time).
 */
export function reviewerProfiles(events: readonly ReviewEvent[], parallel: Parallelism = 'measured'): Map<string, { parallel: number; samples: number[] }> {
  const profiles = new Map<string, { parallel: number; samples: number[] }>();
  const byReviewer = new Map<string, ReviewEvent[]>();
  for (const e of events) byReviewer.set(e.reviewer, [...(byReviewer.get(e.reviewer) ?? []), e]);
  for (const [reviewer, list] of byReviewer) {
    const sorted = [...list].sort((a, b) => a.arrival - b.arrival);
    const openBefore = sorted.map((e, i) => sorted.slice(0, i).filter((o) => o.done > e.arrival).length);
    const slots = parallel === 'measured' ? Math.max(1, Math.ceil(quantile(openBefore.map((n) => n + 1), 0.9))) : Math.max(1, Math.floor(parallel));
    // With one slot the reviewer serves in order: a request waits until the previous one is done.
    const samples: number[] = [];
    if (slots === 1) {
      let busyUntil = -Infinity;
      for (const e of sorted) {
        if (e.arrival >= busyUntil) samples.push((e.done - e.arrival) / 60);
        busyUntil = Math.max(busyUntil, e.done);
      }
    } else {
      for (const [i, e] of sorted.entries()) if ((openBefore[i] ?? 0) < slots) samples.push((e.done - e.arrival) / 60);
    }
    profiles.set(reviewer, { parallel: slots, samples });
  }
  return profiles;
}

/** Service samples per reviewer when each reviews one request at a time (see reviewerProfiles). */
export function serviceSamples(events: readonly ReviewEvent[]): Map<string, number[]> {
  return new Map([...reviewerProfiles(events, 1)].map(([id, p]) => [id, p.samples]));
}

/** Measured queue parameters from review events in [from, to): arrival rates per tier and empirical service per tier and reviewer. */
export function measureQueueParams(
  events: readonly ReviewEvent[],
  options: { from: number; to: number; seed?: number; parallel?: Parallelism },
): QueueParams & { arrivals: ArrivalStream[] } {
  const window = events.filter((e) => e.arrival >= options.from && e.arrival < options.to);
  if (window.length < 10) {
    throw new FlowgateError('INSUFFICIENT_DATA', `Only ${window.length} reviews in the measured window; at least 10 are needed. Widen --days or import review events.`);
  }
  const hours = (options.to - options.from) / 3600;
  const tiers = new Map<ReviewTier, number>();
  for (const e of window) tiers.set(e.tier, (tiers.get(e.tier) ?? 0) + 1);
  const profiles = reviewerProfiles(window, options.parallel ?? 'measured');
  const pooled = [...profiles.values()].flatMap((p) => p.samples);
  const reviewers: SimReviewer[] = [...profiles.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([id, p]) => ({ id, parallel: p.parallel, ...(p.samples.length >= 5 ? { service: { kind: 'empirical' as const, minutes: p.samples } } : {}) }));
  const service: QueueParams['service'] = {};
  for (const tier of tiers.keys()) {
    const tierSamples = [...reviewerProfiles(window.filter((e) => e.tier === tier), options.parallel ?? 'measured').values()].flatMap((p) => p.samples);
    service[tier] = { kind: 'empirical', minutes: tierSamples.length >= 5 ? tierSamples : pooled };
  }
  return {
    seed: options.seed ?? 1,
    horizonMinutes: hours * 60,
    arrivals: [...tiers.entries()].map(([tier, count]) => ({ tier, ratePerHour: count / hours })),
    service,
    reviewers,
  };
}

/** Predicted against observed time-to-review on a later window. */
export interface QueueBacktest {
  train: { count: number; from: number; to: number };
  test: { count: number; from: number; to: number };
  replications: number;
  /** Reviews each reviewer was modelled to hold at once. */
  parallel: Record<string, number>;
  predicted: { meanMinutes: number; p50Minutes: number; p90Minutes: number };
  observed: { meanMinutes: number; p50Minutes: number; p90Minutes: number };
  /** The training window's own percentiles, used as the prediction: what the simulation must beat. */
  naive: { meanMinutes: number; p50Minutes: number; p90Minutes: number };
}

/**
 * Backtest: measure service times on the older part of history, replay the later part's arrivals
 * (each to its actual reviewer) through the simulator, and compare the predicted time from request
 * to done with what was observed.
 */
export function backtestQueue(
  events: readonly ReviewEvent[],
  options: { trainShare?: number; seed?: number; replications?: number; parallel?: Parallelism } = {},
): QueueBacktest {
  const sorted = [...events].sort((a, b) => a.arrival - b.arrival);
  const cut = Math.floor(sorted.length * (options.trainShare ?? 0.5));
  const train = sorted.slice(0, cut);
  const test = sorted.slice(cut);
  if (train.length < 10 || test.length < 10) {
    throw new FlowgateError('INSUFFICIENT_DATA', `A backtest needs at least 10 reviews on each side of the split; history has ${train.length} and ${test.length}.`);
  }
  const profiles = reviewerProfiles(train, options.parallel ?? 'measured');
  const pooled = [...profiles.values()].flatMap((p) => p.samples);
  const start = test[0]?.arrival ?? 0;
  const end = Math.max(...test.map((e) => e.done));
  const reviewers: SimReviewer[] = [...new Set(test.map((e) => e.reviewer))].sort().map((id) => {
    const own = profiles.get(id);
    const samples = own?.samples ?? [];
    return { id, parallel: own?.parallel ?? 1, service: { kind: 'empirical' as const, minutes: samples.length >= 5 ? samples : pooled } };
  });
  const replay: ReplayArrival[] = test.map((e) => ({ minute: (e.arrival - start) / 60, tier: e.tier, reviewer: e.reviewer }));
  const replications = options.replications ?? 20;
  const predicted: number[] = [];
  for (let i = 0; i < replications; i++) {
    const result = simulateQueue({
      seed: (options.seed ?? 1) + i,
      horizonMinutes: (end - start) / 60 + 1,
      arrivals: { replay },
      service: { standard: { kind: 'empirical', minutes: pooled } },
      reviewers,
      sampleEveryMinutes: (end - start) / 60 + 1,
    });
    predicted.push(...result.sojourns);
  }
  const minutes = (list: readonly ReviewEvent[]): number[] => list.map((e) => (e.done - e.arrival) / 60);
  const summary = (values: number[]) => ({ meanMinutes: mean(values), p50Minutes: quantile(values, 0.5), p90Minutes: quantile(values, 0.9) });
  return {
    train: { count: train.length, from: train[0]?.arrival ?? 0, to: start },
    test: { count: test.length, from: start, to: end },
    replications,
    parallel: Object.fromEntries(reviewers.map((r) => [r.id, r.parallel ?? 1])),
    predicted: summary(predicted),
    observed: summary(minutes(test)),
    naive: summary(minutes(train)),
  };
}
