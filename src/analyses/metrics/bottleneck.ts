import type { Period } from './dora.ts';
import { stages, type ChangeFlow, type Stage } from './flow.ts';
import { mean, present } from './stats.ts';

/** The stage that holds the flow, the one that grew, and what faster coding alone would buy. */
export interface Bottleneck {
  /** `pr-events`: stages split by PR events; `git-only`: no PR events, the time before merge is all "coding". */
  basis: 'pr-events' | 'git-only';
  changes: number;
  /** The stages with any data; with fewer than two there is no bottleneck to name. */
  measured: Stage[];
  /** Mean seconds per stage over the changes used. */
  meanSeconds: Record<Stage, number | null>;
  /** Each stage's share of the summed flow time (0..1). */
  shares: Record<Stage, number | null>;
  largest: Stage | null;
  grewMost: { stage: Stage; before: number; after: number } | null;
  amdahl: {
    codingShare: number;
    /** Lead-time speed-up if coding were twice as fast: 1 / ((1 - p) + p / 2). */
    speedupIfCoding2x: number;
    /** The ceiling: coding taking no time at all, 1 / (1 - p). */
    speedupIfCodingFree: number;
    /** Share of lead time saved with coding twice as fast: p / 2. */
    savedIfCoding2x: number;
  } | null;
}

/** Finds the bottleneck stage over the changes merged in the period (definitions in docs/metrics.md). */
export function computeBottleneck(flows: readonly ChangeFlow[], period: Period): Bottleneck {
  const split = flows.filter((f) => f.split === 'pr');
  const basis = split.length >= 5 ? 'pr-events' : 'git-only';
  const used = basis === 'pr-events' ? split : flows;
  const meanSeconds = Object.fromEntries(stages.map((s) => [s, mean(present(used.map((f) => f.stages[s])))])) as Record<Stage, number | null>;
  let total = 0;
  for (const s of stages) total += meanSeconds[s] ?? 0;
  const shares = Object.fromEntries(stages.map((s) => [s, total === 0 || meanSeconds[s] === null ? null : (meanSeconds[s] ?? 0) / total])) as Record<Stage, number | null>;
  const measured = stages.filter((s) => meanSeconds[s] !== null);
  // A single measurable stage (git only, no deployments: first commit to merge) holds all the time by
  // construction; naming it the bottleneck, or doing Amdahl's arithmetic on it, would say nothing.
  const comparable = measured.length >= 2;
  let largest: Stage | null = null;
  if (comparable) for (const s of stages) if (shares[s] !== null && (largest === null || (shares[s] ?? 0) > (shares[largest] ?? 0))) largest = s;

  const middle = (period.from + period.to) / 2;
  let grewMost: Bottleneck['grewMost'] = null;
  for (const s of stages) {
    const before = mean(present(used.filter((f) => f.mergedAt < middle).map((f) => f.stages[s])));
    const after = mean(present(used.filter((f) => f.mergedAt >= middle).map((f) => f.stages[s])));
    if (before === null || after === null || after <= before) continue;
    if (grewMost === null || after - before > grewMost.after - grewMost.before) grewMost = { stage: s, before, after };
  }
  const p = shares.coding;
  const amdahl =
    p === null || !comparable
      ? null
      : {
          codingShare: p,
          speedupIfCoding2x: 1 / (1 - p + p / 2),
          speedupIfCodingFree: p >= 1 ? Infinity : 1 / (1 - p),
          savedIfCoding2x: p / 2,
        };
  return { basis, changes: used.length, measured, meanSeconds, shares, largest, grewMost, amdahl };
}
