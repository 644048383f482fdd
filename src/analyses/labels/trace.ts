import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFlowgateError } from '../../core/errors.ts';
import { git } from '../../sources/git/git.ts';
import { excludingPathspecs, findMissingBlobs, planMainline, type MissingBlobPath } from '../../sources/git/history.ts';
import { diffArgs, streamDiffs, type CommitDiff } from './diff-stream.ts';
import { createOriginTracker, modifiedLines, selectCandidates, type SzzInput, type SzzLabel, type TracedLine } from './szz.ts';

/** Reports progress: done out of total. */
type Progress = (done: number, total: number) => void;

/** The git arguments of the SZZ stream: the mainline's patches in `range`, oldest first, zero context (pathspecs may follow). */
export function mainlinePatchArgs(range: readonly string[]): string[] {
  return ['log', '--first-parent', '--reverse', '-p', '--diff-merges=first-parent', '--format=%x00%H', ...diffArgs, ...range, '--'];
}

/**
 * SZZ in one streaming pass: `git log --first-parent -p -U0` from the root to `tip`, keeping each
 * line's origin hunk by hunk. Cost grows with the history, not with the number of fixes.
 * Snapshots and partial clones may lack some (large, mostly binary) blobs, and git stops on the
 * first: then the commits that need an absent blob are read on their own without those paths
 * (whose lines are forgotten from then on: their origins are unknown), and the history around
 * them is streamed as usual.
 */
export async function traceByStream(repoPath: string, tip: string, input: SzzInput, progress: Progress = () => undefined): Promise<SzzLabel[]> {
  const run = async (missing: ReadonlyMap<string, readonly MissingBlobPath[]>): Promise<SzzLabel[]> => {
    const tracker = createOriginTracker(input);
    const total = input.positions.size;
    let done = 0;
    const apply = (commit: CommitDiff): void => {
      tracker.apply(commit);
      done += 1;
      if (done % 500 === 0) progress(done, total);
    };
    for (const step of await planMainline(repoPath, tip, null, missing)) {
      if (step.kind === 'range') {
        const range = step.exclude === null ? [step.tip] : [step.tip, `^${step.exclude}`];
        await streamDiffs(repoPath, mainlinePatchArgs(range), apply);
      } else {
        apply(await diffWithout(repoPath, step.sha, step.parent, step.missing));
      }
    }
    progress(total, total);
    return tracker.labels;
  };
  try {
    return await run(new Map());
  } catch (error) {
    if (!isFlowgateError(error, 'GIT_OBJECT_MISSING')) throw error;
    const missing = await findMissingBlobs(repoPath, tip, null);
    if (missing.size === 0) throw error;
    return run(missing);
  }
}

/**
 * One commit's diff without the paths whose blobs are absent; those come back as binary files, so
 * the origin tracker forgets their lines (a deleted path is dropped, a kept one starts unknown).
 */
async function diffWithout(repoPath: string, sha: string, parent: string | null, missing: readonly MissingBlobPath[]): Promise<CommitDiff> {
  const revs = parent === null ? ['--root', sha] : [parent, sha];
  const paths = missing.map((m) => m.path);
  let result: CommitDiff = { sha, files: [] };
  await streamDiffs(repoPath, ['diff-tree', '-r', '-p', '--no-commit-id', ...diffArgs, ...revs, '--', ...excludingPathspecs(paths)], (c) => (result = c), sha);
  for (const m of missing) {
    result.files.push({ oldPath: m.status === 'A' ? null : m.path, newPath: m.status === 'D' ? null : m.path, binary: true, hunks: [] });
  }
  return result;
}

/**
 * SZZ by `git blame` on the fix's first parent, one fix at a time (the reference implementation):
 * cost grows with the number of fixes, which makes it the faster choice for a few new fixes.
 */
export async function traceByBlame(
  repoPath: string,
  fixes: readonly { position: number; sha: string; parent: string | null }[],
  input: SzzInput,
  ignoreRevs: readonly string[],
  progress: Progress = () => undefined,
): Promise<SzzLabel[]> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-szz-'));
  const ignoreFile = join(dir, 'ignore-revs');
  writeFileSync(ignoreFile, ignoreRevs.join('\n') + '\n');
  const labels: SzzLabel[] = [];
  try {
    let done = 0;
    for (const fix of fixes) {
      done += 1;
      if (done % 50 === 0) progress(done, fixes.length);
      if (fix.parent === null) continue;
      const commit = await diffOf(repoPath, fix.parent, fix.sha);
      if (commit.files.length > input.options.maxFixFiles) continue;
      const byInducing = new Map<number, TracedLine[]>();
      for (const [file, indexes] of modifiedLines(commit.files, input.options.traceKinds)) {
        const path = file.oldPath ?? '';
        const origins = await blameLines(repoPath, fix.parent, path, indexes, ignoreRevs.length > 0 ? ignoreFile : null);
        for (const index of indexes) {
          const sha = origins.get(index + 1);
          const origin = sha === undefined ? -1 : (input.positions.get(sha) ?? -1);
          if (origin < 0 || input.ignored.has(origin)) continue;
          const list = byInducing.get(origin) ?? [];
          list.push({ path, line: index + 1 });
          byInducing.set(origin, list);
        }
      }
      labels.push(...selectCandidates(fix.position, byInducing, input));
    }
    progress(fixes.length, fixes.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return labels;
}

/** One change's diff against its first parent. */
async function diffOf(repoPath: string, parent: string, sha: string): Promise<CommitDiff> {
  let result: CommitDiff = { sha, files: [] };
  await streamDiffs(repoPath, ['diff', ...diffArgs, parent, sha, '--'], (c) => (result = c), sha);
  return result;
}

/** Blames the given 0-based line indexes of `path` at `rev`, following first parents: line number -> sha. */
async function blameLines(repoPath: string, rev: string, path: string, indexes: readonly number[], ignoreFile: string | null): Promise<Map<number, string>> {
  const ranges: string[] = [];
  let start = -1;
  let end = -1;
  for (const index of [...indexes].sort((a, b) => a - b)) {
    if (index === end + 1 && start >= 0) {
      end = index;
      continue;
    }
    if (start >= 0) ranges.push('-L', `${start + 1},${end + 1}`);
    start = index;
    end = index;
  }
  if (start >= 0) ranges.push('-L', `${start + 1},${end + 1}`);
  const args = ['blame', '--porcelain', '--first-parent', '-w', '-M', '-C', ...(ignoreFile === null ? [] : ['--ignore-revs-file', ignoreFile]), ...ranges, rev, '--', path];
  const out = await git(repoPath, args, { allowFailure: true });
  const origins = new Map<number, string>();
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]{40}) \d+ (\d+)/.exec(line);
    if (m !== null) origins.set(Number(m[2]), m[1] ?? '');
  }
  return origins;
}
