import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runAnalysis } from '../src/analyses/run.ts';
import { runCliInProcess } from '../src/outputs/cli/__fixtures__/in-process.ts';
import { gitSync } from '../src/sources/git/git.ts';
import { writeSyntheticHistory } from '../src/sources/git/__fixtures__/synthetic-history.ts';
import { countChanges } from '../src/store/changes.ts';
import { getRepository } from '../src/store/repositories.ts';
import { openStore } from '../src/store/store.ts';
import { cliMs, medianMs } from './timing.ts';
import type { BenchResult } from './types.ts';

/**
 * `flowgate check` on a 50,000+ change repository with a warm (analyzed) store: the goals
 * are a median <= 300 ms, and <= 1 s for a 1,000-file change. Where the repository comes from:
 *  - FLOWGATE_BENCH_GATE_REPO=<path> with FLOWGATE_BENCH_GATE_DB=<store.db> that `flowgate analyze`
 *    filled for it (copied to a temp file first, so a shared store is never touched);
 *  - neither: a SYNTHETIC 50,000-change history over 1,500 files, mined into a temp store (no
 *    trained model: the default one scores it); the output says so.
 * Each figure is the whole command run in this process (`runCli`: store opened, facts from git, the
 * base policy, stored risk and trust, the decision, JSON printed), median of `FLOWGATE_BENCH_RUNS`
 * (default 7) after one warm-up; the reference is `git diff --numstat` of the same range, the least
 * any check must read. The same check as a new process is reported beside, with `--version` (the
 * start-up) as its reference.
 */
export async function run(): Promise<BenchResult[]> {
  const runs = Number(process.env['FLOWGATE_BENCH_RUNS'] ?? 7);
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-gate-'));
  try {
    const source = await benchSource(dir);
    if (source === null) return [];
    const { repoPath, db, label } = source;
    const store = await openStore({ url: db });
    const changes = (await countChanges(store.db, (await getRepository(store.db, repoPath)).id)).total;
    await store.close();
    if (changes < 50_000) console.log(`gate: note: ${label} has ${changes} changes, fewer than the 50,000 the goal is stated for`);

    const head = gitSync(repoPath, ['rev-parse', 'HEAD']).trim();
    const base = gitSync(repoPath, ['rev-parse', 'HEAD~1']).trim();
    const wideBase = baseWithFiles(repoPath, head, 1000);
    const check = (from: string): string[] => ['check', '--base', from, '--head', head, repoPath, '--db', db, '--format', 'json'];
    const small = await medianMs(runs, () => runQuiet(check(base)));
    const smallGit = await medianMs(runs, () => gitSync(repoPath, ['diff', '--numstat', '-M', `${base}...${head}`]));
    const wide = await medianMs(runs, () => runQuiet(check(wideBase.sha)));
    const wideGit = await medianMs(runs, () => gitSync(repoPath, ['diff', '--numstat', '-M', `${wideBase.sha}...${head}`]));

    const startup = await medianMs(3, () => cliMs(['--version']));
    const process1 = await medianMs(3, () => cliMs(check(base)));
    const processWide = await medianMs(3, () => cliMs(check(wideBase.sha)));
    const about = `${label}: ${changes} changes; median of ${runs}`;
    return [
      {
        name: '`flowgate check`, the last change (in process)',
        value: small,
        unit: 'ms',
        reference: { name: 'git diff --numstat of the range', value: smallGit },
        goal: '<= 300 ms',
        notes: `${about}; ${base.slice(0, 7)}..${head.slice(0, 7)}`,
      },
      {
        name: `\`flowgate check\`, a ${wideBase.files}-file change (in process)`,
        value: wide,
        unit: 'ms',
        reference: { name: 'git diff --numstat of the range', value: wideGit },
        goal: '<= 1000 ms',
        notes: `${about}; ${wideBase.sha.slice(0, 7)}..${head.slice(0, 7)} (${wideBase.back} commits)`,
      },
      {
        name: '`flowgate check`, the last change (new process)',
        value: process1,
        unit: 'ms',
        reference: { name: '`flowgate --version` (start-up)', value: startup },
        notes: 'the process figure less its start-up is the command itself; start-up is node loading the CLI: the build in dist/ when it is newer than the sources (`npm run build`), else tsx compiling them',
      },
      {
        name: `\`flowgate check\`, a ${wideBase.files}-file change (new process)`,
        value: processWide,
        unit: 'ms',
        reference: { name: '`flowgate --version` (start-up)', value: startup },
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The repository and a private copy of its analyzed store, per the environment (see `run`). */
async function benchSource(dir: string): Promise<{ repoPath: string; db: string; label: string } | null> {
  const givenRepo = process.env['FLOWGATE_BENCH_GATE_REPO'];
  const givenDb = process.env['FLOWGATE_BENCH_GATE_DB'];
  const db = join(dir, 'store.db');
  if (givenRepo !== undefined && givenRepo !== '') {
    const repoPath = resolve(givenRepo);
    if (givenDb === undefined || !existsSync(givenDb) || !existsSync(repoPath)) {
      console.log('gate: skipped: FLOWGATE_BENCH_GATE_REPO needs FLOWGATE_BENCH_GATE_DB, a store `flowgate analyze` filled for it');
      return null;
    }
    copyFileSync(givenDb, db);
    return { repoPath, db, label: repoPath };
  }
  console.log('gate: no FLOWGATE_BENCH_GATE_REPO/FLOWGATE_BENCH_GATE_DB: using a SYNTHETIC 50,000-change history over 1,500 files');
  const repoPath = join(dir, 'repo');
  writeSyntheticHistory(repoPath, { changes: 50_000, files: 1500, mergeEvery: 4, startTime: 1_450_000_000 });
  const store = await openStore({ url: db });
  await runAnalysis(store, repoPath, { mineOnly: true });
  await store.close();
  return { repoPath, db, label: 'synthetic history' };
}

/** The nearest ancestor of `head` whose diff to it touches at least `files` files (doubling, then bisecting). */
function baseWithFiles(repoPath: string, head: string, files: number): { sha: string; files: number; back: number } {
  const count = (back: number): number => gitSync(repoPath, ['diff', '--name-only', `${head}~${back}`, head]).split('\n').filter((l) => l !== '').length;
  const depth = Number(gitSync(repoPath, ['rev-list', '--first-parent', '--count', head]).trim()) - 1;
  let high = 1;
  while (high < depth && count(high) < files) high = Math.min(depth, high * 2);
  let low = Math.floor(high / 2);
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (count(mid) >= files) high = mid;
    else low = mid;
  }
  const sha = gitSync(repoPath, ['rev-parse', `${head}~${high}`]).trim();
  return { sha, files: count(high), back: high };
}

/** Runs a CLI command in this process with its output discarded; fails on a usage or internal error. */
async function runQuiet(argv: string[]): Promise<void> {
  const { status, stderr } = await runCliInProcess(argv);
  // 0, or 10/11 (tier at or above --fail-on, blocked) are decisions; anything else is a failure.
  if (status !== 0 && status !== 10 && status !== 11) throw new Error(`flowgate ${argv.join(' ')} exited ${status}: ${stderr}`);
}
