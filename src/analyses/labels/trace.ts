import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFlowgateError } from '../../core/errors.ts';
import { git } from '../../sources/git/git.ts';
import { diffArgs, streamDiffs, type CommitDiff } from './diff-stream.ts';
import { createOriginTracker, modifiedLines, selectCandidates, type SzzInput, type SzzLabel, type TracedLine } from './szz.ts';

/** Reports progress: done out of total. */
type Progress = (done: number, total: number) => void;

/**
 * SZZ in one streaming pass: `git log --first-parent -p -U0` from the root to `tip`, keeping each
 * line's origin hunk by hunk. Cost grows with the history, not with the number of fixes.
 */
export async function traceByStream(repoPath: string, tip: string, input: SzzInput, progress: Progress = () => undefined): Promise<SzzLabel[]> {
  const run = async (exclude: readonly string[]): Promise<SzzLabel[]> => {
    const tracker = createOriginTracker(input);
    const total = input.positions.size;
    let done = 0;
    const pathspecs = exclude.map((p) => `:(exclude,literal)${p}`);
    const args = ['log', '--first-parent', '--reverse', '-p', '--diff-merges=first-parent', '--format=%x00%H', ...diffArgs, tip, '--', ...(pathspecs.length > 0 ? ['.', ...pathspecs] : [])];
    await streamDiffs(repoPath, args, (commit) => {
      tracker.apply(commit);
      done += 1;
      if (done % 500 === 0) progress(done, total);
    });
    progress(total, total);
    return tracker.labels;
  };
  try {
    return await run([]);
  } catch (error) {
    // Snapshots and partial clones may lack some (large, mostly binary) blobs: leave those files out.
    if (!isFlowgateError(error, 'GIT_OBJECT_MISSING')) throw error;
    const missing = await missingBlobPaths(repoPath, tip);
    if (missing.length === 0) throw error;
    return run(missing);
  }
}

/** Paths on the mainline whose blobs (at some version) are absent from the object store. */
export async function missingBlobPaths(repoPath: string, tip: string): Promise<string[]> {
  const raw = await git(repoPath, ['log', '--first-parent', '--diff-merges=first-parent', '--raw', '--no-renames', '--no-abbrev', '-z', '--format=', tip]);
  const pathsByBlob = new Map<string, Set<string>>();
  const tokens = raw.split('\0');
  for (let i = 0; i < tokens.length; i++) {
    const meta = (tokens[i] ?? '').replace(/^\n/, '');
    if (!meta.startsWith(':')) continue;
    const path = tokens[i + 1] ?? '';
    i += 1;
    const fields = meta.split(' ');
    for (const blob of [fields[2], fields[3]]) {
      if (blob === undefined || /^0+$/.test(blob)) continue;
      const set = pathsByBlob.get(blob) ?? new Set<string>();
      set.add(path);
      pathsByBlob.set(blob, set);
    }
  }
  const missing = new Set<string>();
  const check = await git(repoPath, ['cat-file', '--batch-check'], { input: [...pathsByBlob.keys()].join('\n') + '\n', allowFailure: true });
  for (const line of check.split('\n')) {
    const m = /^([0-9a-f]{40,64}) missing$/.exec(line);
    if (m !== null) for (const p of pathsByBlob.get(m[1] ?? '') ?? []) missing.add(p);
  }
  return [...missing].sort();
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
