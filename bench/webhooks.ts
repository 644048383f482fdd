import type { BenchResult } from './types.ts';

/** The webhooks benchmark (filled in by its owner). */
export function run(): Promise<BenchResult[]> {
  return Promise.resolve([]);
}
