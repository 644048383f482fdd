import { isFlowgateError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import { deriveReviewEvents, measureQueueParams } from './measure.ts';
import { applyWhatIf, simulateQueue, type WhatIf } from './queue.ts';

/** One simulated scenario of the review queue, in minutes. */
export interface QueueScenario {
  name: string;
  whatIf: WhatIf;
  requests: number;
  waitP50: number;
  waitP90: number;
  doneP90: number;
  meanQueue: number;
  /** Mean reviewer utilisation, 0-1. */
  utilisation: number;
}

/** The review queue as measured, and what volume and the auto lane would do to it (the report's chart). */
export interface QueueOutlook {
  /** Reviews measured (derived from merges and imported review events) in the window. */
  reviews: number;
  windowDays: number;
  reviewers: number;
  /** Measured utilisation, 0-1; at or above 1 the queue has no steady state. */
  utilisation: number;
  scenarios: QueueScenario[];
}

/** The what-ifs the report shows: the questions agents raise (volume up; more of it in the auto lane). */
export const outlookWhatIfs: { name: string; whatIf: WhatIf }[] = [
  { name: 'as measured', whatIf: {} },
  { name: 'volume ×2', whatIf: { volumeFactor: 2 } },
  { name: 'volume ×3', whatIf: { volumeFactor: 3 } },
  { name: 'volume ×3, half in auto', whatIf: { volumeFactor: 3, autoShare: 0.5 } },
];

/**
 * Simulates the review queue measured over the last `windowDays` of a repository's reviews under
 * the report's what-ifs (seeded: the same store gives the same figures); null when there are too
 * few reviews to measure.
 */
export async function queueOutlook(store: Store, repoId: number, options: { windowDays?: number; horizonDays?: number; seed?: number } = {}): Promise<QueueOutlook | null> {
  const windowDays = options.windowDays ?? 90;
  const horizonDays = options.horizonDays ?? 180;
  // Reviewers' capacity is measured on the window, their busy periods a little before it: a year
  // back is plenty, and keeps a report of a long history from deriving every review it ever had.
  const newest = await store.db.selectFrom('changes').select((eb) => eb.fn.max('commit_time').as('t')).where('repo_id', '=', repoId).executeTakeFirst();
  const events = await deriveReviewEvents(store, repoId, { since: (newest?.t ?? 0) - Math.max(365, 2 * windowDays) * 86_400 });
  const last = Math.max(0, ...events.map((e) => e.arrival));
  let measured;
  try {
    measured = measureQueueParams(events, { from: last - windowDays * 86_400, to: last + 1, seed: options.seed ?? 1 });
  } catch (error) {
    if (isFlowgateError(error, 'INSUFFICIENT_DATA')) return null;
    throw error;
  }
  const params = { ...measured, horizonMinutes: horizonDays * 1440, warmupMinutes: (horizonDays / 10) * 1440 };
  const scenarios = outlookWhatIfs.map(({ name, whatIf }) => {
    const r = simulateQueue(applyWhatIf(params, whatIf));
    const utilisation = r.reviewers.reduce((s, x) => s + x.utilisation, 0) / Math.max(1, r.reviewers.length);
    return { name, whatIf, requests: r.requests, waitP50: r.wait.p50Minutes, waitP90: r.wait.p90Minutes, doneP90: r.sojourn.p90Minutes, meanQueue: r.queue.meanLength, utilisation };
  });
  const reviews = events.filter((e) => e.arrival >= last - windowDays * 86_400).length;
  return { reviews, windowDays, reviewers: measured.reviewers.length, utilisation: measured.utilisation, scenarios };
}
