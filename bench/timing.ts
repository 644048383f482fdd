import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { quantile } from '../src/analyses/metrics/stats.ts';

/** The CLI entry point the benches time as a new process. */
export const cliPath = resolve(import.meta.dirname, '../bin/flowgate.js');

/** The q-quantile (0..1) of measured values; NaN when there are none (a bench that measured nothing says so). */
export function quantileOf(values: readonly number[], q: number): number {
  return quantile(values, q) ?? Number.NaN;
}

/** Median wall time in ms of `runs` calls after one warm-up call. */
export async function medianMs(runs: number, fn: () => unknown): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return quantileOf(times, 0.5);
}

/** Wall time in ms of `flowgate <args>` as a new process (output discarded). */
export function cliMs(args: readonly string[]): number {
  const t = performance.now();
  execFileSync(process.execPath, [cliPath, ...args], { stdio: 'ignore' });
  return performance.now() - t;
}
