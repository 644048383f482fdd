import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabelsConfig } from '../src/analyses/labels/config.ts';
import { runLabels } from '../src/analyses/labels/run.ts';
import { mainlinePatchArgs } from '../src/analyses/labels/trace.ts';
import { runAnalysis } from '../src/analyses/run.ts';
import { streamGit } from '../src/sources/git/git.ts';
import { excludingPathspecs, findMissingBlobs } from '../src/sources/git/history.ts';
import { openStore } from '../src/store/store.ts';
import { benchRepository } from './repository.ts';
import { quantileOf } from './timing.ts';
import type { BenchResult } from './types.ts';

const runs = 3;

/**
 * Wall ms of git streaming the patches the labeller reads, drained as the labeller reads them (same
 * runner, same environment). Paths whose blobs a snapshot lacks are left out (git would stop on
 * them); the labeller's own way around them is timed on its side.
 */
async function gitStreamMs(dir: string, absent: readonly string[]): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  let bytes = 0;
  for await (const chunk of streamGit(dir, [...mainlinePatchArgs(['HEAD']), ...excludingPathspecs(absent)])) bytes += chunk.length;
  return { ms: performance.now() - started, bytes };
}

/**
 * Labelling a whole history (fix detection, SZZ by one streamed pass, storing fixes and labels)
 * against git itself streaming the same patches (`git log --first-parent -p -U0`), alternated,
 * medians of three. Mining and the first feature pass happen before and are not timed.
 */
export async function run(): Promise<BenchResult[]> {
  const repo = benchRepository();
  const dbDir = mkdtempSync(join(tmpdir(), 'flowgate-bench-labels-'));
  try {
    const store = await openStore({ url: join(dbDir, 'bench.db') });
    await runAnalysis(store, repo.dir, { mineOnly: true });
    const { id: repoId } = await store.db.selectFrom('repositories').select('id').executeTakeFirstOrThrow();
    const config = LabelsConfig.parse({ method: 'stream' });
    // Warm-up: writes the features too, so the timed runs below are labelling only.
    let summary = await runLabels(store, repoId, repo.dir, { config });
    const labelMs: number[] = [];
    const gitMs: number[] = [];
    let bytes = 0;
    const absent = [...new Set([...(await findMissingBlobs(repo.dir, 'HEAD', null)).values()].flatMap((paths) => paths.map((p) => p.path)))];
    for (let i = 0; i < runs; i++) {
      const git = await gitStreamMs(repo.dir, absent);
      gitMs.push(git.ms);
      bytes = git.bytes;
      const t = performance.now();
      summary = await runLabels(store, repoId, repo.dir, { config, relabel: true });
      labelMs.push(performance.now() - t);
    }
    await store.close();
    const label = quantileOf(labelMs, 0.5) / 1000;
    const git = quantileOf(gitMs, 0.5) / 1000;
    return [
      {
        name: `label ${summary.changes} changes (${repo.label})`,
        value: label,
        unit: 's',
        reference: { name: 'git log --first-parent -p -U0 alone', value: git },
        goal: '<= 2x',
        notes: `${summary.fixes} fixes,${absent.length > 0 ? ` ${absent.length} paths with absent blobs left out of git's stream,` : ''} ${summary.labels} labels on ${summary.defectInducing} changes; SZZ ${summary.szzSeconds} s of it; ${(bytes / 1e6).toFixed(0)} MB of patches`,
      },
    ];
  } finally {
    rmSync(dbDir, { recursive: true, force: true });
    repo.cleanup();
  }
}
