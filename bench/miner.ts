import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAnalysis } from '../src/analyses/run.ts';
import { openStore } from '../src/store/store.ts';
import { benchRepository } from './repository.ts';
import type { BenchResult } from './types.ts';

/** Mining throughput against the `git log` it streams (the floor), measured in the same run. */
export async function run(): Promise<BenchResult[]> {
  const repo = benchRepository();
  const dbDir = mkdtempSync(join(tmpdir(), 'flowgate-bench-db-'));
  try {
    const t0 = performance.now();
    execFileSync('git', ['log', '--first-parent', '--diff-merges=first-parent', '-M', '--raw', '--numstat', '-z', 'HEAD'], {
      cwd: repo.dir,
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const gitSeconds = (performance.now() - t0) / 1000;

    const store = await openStore({ url: join(dbDir, 'bench.db') });
    const t1 = performance.now();
    const result = await runAnalysis(store, repo.dir, { mineOnly: true });
    const mineSeconds = (performance.now() - t1) / 1000;
    const t2 = performance.now();
    await runAnalysis(store, repo.dir, { mineOnly: true });
    const noopSeconds = (performance.now() - t2) / 1000;
    await store.close();
    const changes = result.mined.added;
    return [
      {
        name: `mine ${changes} changes (${repo.label})`,
        value: mineSeconds,
        unit: 's',
        reference: { name: 'git log --numstat alone', value: gitSeconds },
        notes: `${Math.round(changes / mineSeconds)} changes/s`,
      },
      { name: 'incremental re-run with nothing new', value: noopSeconds, unit: 's', goal: '< 1 s' },
    ];
  } finally {
    rmSync(dbDir, { recursive: true, force: true });
    repo.cleanup();
  }
}
