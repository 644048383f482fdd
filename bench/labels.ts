import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabelsConfig } from '../src/analyses/labels/config.ts';
import { diffArgs } from '../src/analyses/labels/diff-stream.ts';
import { runLabels } from '../src/analyses/labels/run.ts';
import { runAnalysis } from '../src/analyses/run.ts';
import { findMissingBlobs, excludingPathspecs } from '../src/sources/git/history.ts';
import { openStore } from '../src/store/store.ts';
import { benchRepository } from './repository.ts';
import { quantileOf } from './timing.ts';
import type { BenchResult } from './types.ts';

const runs = 3;

/**
 * Wall ms of git streaming the patches the labeller reads, drained through a pipe as the labeller
 * reads them. Paths whose blobs a snapshot lacks are left out (git would stop on them); the
 * labeller's own way around them is timed on its side.
 */
function gitStreamMs(dir: string, absent: readonly string[]): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const args = ['log', '--first-parent', '--reverse', '-p', '--diff-merges=first-parent', '--format=%x00%H', ...diffArgs, 'HEAD', '--', ...excludingPathspecs(absent)];
    const child = spawn('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - started, bytes }) : reject(new Error(`git log -p exited with ${String(code)} in ${dir}: ${stderr.trim()}`))));
  });
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
