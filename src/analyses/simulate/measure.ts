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
  for (const e of window) tiers.set(reviewedTier(e.tier), (tiers.get(reviewedTier(e.tier)) ?? 0) + 1);
  const profiles = reviewerProfiles(window, options.parallel ?? 'measured');
  const pooled = [...profiles.values()].flatMap((p) => p.samples);
  const reviewers: SimReviewer[] = [...profiles.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([id, p]) => ({ id, parallel: p.parallel, ...(p.samples.length >= 5 ? { service: { kind: 'empirical' as const, minutes: p.samples } } : {}) }));
  const service: QueueParams['service'] = {};
  for (const tier of tiers.keys()) {
    const tierSamples = [...reviewerProfiles(window.filter((e) => reviewedTier(e.tier) === tier), options.parallel ?? 'measured').values()].flatMap((p) => p.samples);
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
  const replay: ReplayArrival[] = test.map((e) => ({ minute: (e.arrival - start) / 60, tier: reviewedTier(e.tier), reviewer: e.reviewer }));
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
