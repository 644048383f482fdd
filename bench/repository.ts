import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticHistory } from '../src/sources/git/__fixtures__/synthetic-history.ts';

/** A repository a bench works on, what to call it, and how to remove it afterwards. */
export interface BenchRepository {
  dir: string;
  label: string;
  cleanup: () => void;
}

/** The repository to mine: FLOWGATE_BENCH_REPO, else a synthetic 20,000-change history (every 11th change a fix that rewrites earlier lines). */
export function benchRepository(): BenchRepository {
  const given = process.env['FLOWGATE_BENCH_REPO'];
  if (given !== undefined && existsSync(given)) return { dir: given, label: given, cleanup: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-repo-'));
  writeSyntheticHistory(dir, { changes: 20_000, mergeEvery: 4, fixesRewrite: true });
  return { dir, label: 'synthetic 20,000 changes', cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
