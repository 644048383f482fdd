import type { QueueParams } from '../queue.ts';

/** M/M/4: 3 requests an hour, 50-minute reviews, utilisation 0.625; long enough for a steady state. */
export const mmcExample: QueueParams = {
  seed: 42,
  horizonMinutes: 60 * 60_000,
  warmupMinutes: 60 * 500,
  arrivals: [{ tier: 'standard', ratePerHour: 3 }],
  service: { standard: { kind: 'exponential', meanMinutes: 50 } },
  reviewers: ['r1', 'r2', 'r3', 'r4'].map((id) => ({ id })),
  maxOpenPerReviewer: 1,
};
