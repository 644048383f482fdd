import { FlowgateError, isFlowgateError } from '../../core/errors.ts';
import type { FileChange, Person } from '../../changes/change.ts';
import { decodePath } from './decode.ts';
import { assertRepository, git, gitSucceeds, streamGitTokens } from './git.ts';

/** A commit's metadata, with .mailmap applied by git. */
export interface CommitMeta {
  sha: string;
  parents: string[];
  author: Person;
  authorTime: number;
  committer: Person;
  commitTime: number;
  message: string;
}

/** Resolves the branch to mine: the flag, else the branch HEAD points at. */
export async function resolveBranch(repoPath: string, branch: string | undefined): Promise<string> {
  assertRepository(repoPath);
  if (branch !== undefined) {
    if (!(await gitSucceeds(repoPath, ['rev-parse', '--verify', '--quiet', `${branch}^{commit}`]))) {
      throw new FlowgateError('REVISION_NOT_FOUND', `Branch ${branch} does not exist in ${repoPath}. Check --branch.`);
    }
    return branch;
  }
  const head = (await git(repoPath, ['symbolic-ref', '--quiet', '--short', 'HEAD'], { allowFailure: true })).trim();
  const name = head === '' ? 'HEAD' : head;
  if (!(await gitSucceeds(repoPath, ['rev-parse', '--verify', '--quiet', `${name}^{commit}`]))) {
    throw new FlowgateError('REVISION_NOT_FOUND', `${repoPath} has no commits on ${name} yet. Commit something, or pass --branch.`);
  }
  return name;
}

/** The first-parent history of `tip`, newest first. */
export async function firstParentShas(repoPath: string, tip: string): Promise<string[]> {
  const out = await git(repoPath, ['rev-list', '--first-parent', tip]);
  return out.split('\n').filter((l) => l !== '');
}

const META_FORMAT = '%H%x1f%P%x1f%aN%x1f%aE%x1f%at%x1f%cN%x1f%cE%x1f%ct%x1f%B';

/** Reads the metadata of every commit reachable from `tip` but not from `exclude` (all parents, not just the first). */
export async function readCommitMeta(repoPath: string, tip: string, exclude: string | null): Promise<Map<string, CommitMeta>> {
  const args = ['log', '-z', `--format=${META_FORMAT}`, '--encoding=UTF-8', tip];
  if (exclude !== null) args.push(`^${exclude}`);
  const commits = new Map<string, CommitMeta>();
  for await (const token of streamGitTokens(repoPath, args)) {
    const fields = token.toString('utf8').split('\u001f');
    if (fields.length < 9) continue;
    const [sha = '', parents = '', an = '', ae = '', at = '0', cn = '', ce = '', ct = '0'] = fields;
    commits.set(sha.replace(/^\n/, ''), {
      sha: sha.replace(/^\n/, ''),
      parents: parents === '' ? [] : parents.split(' '),
      author: { name: an, email: ae },
      authorTime: Number(at),
      committer: { name: cn, email: ce },
      commitTime: Number(ct),
      message: fields.slice(8).join('\u001f'),
    });
  }
  return commits;
}

/** One mainline commit's files, against its first parent. */
export interface MainlineDiff {
  sha: string;
  files: FileChange[];
}

/** A path whose blob (on either side of a mainline commit's diff) is absent from the object store. */
export interface MissingBlobPath {
  path: string;
  /** The raw status without renames: A, M, D or T. */
  status: string;
}

/** One step of reading the mainline: a range streamed by one `git log`, or one commit read on its own. */
export type MainlineStep =
  | { kind: 'range'; exclude: string | null; tip: string }
  | { kind: 'commit'; sha: string; parent: string | null; missing: MissingBlobPath[] };

const numstatPattern = /^(\d+|-)\t(\d+|-)\t/;
const zeroSha = /^0+$/;

/**
 * Mainline commits after `exclude` up to `tip` whose diff against their first parent needs a blob
 * that is absent (a partial clone, an incomplete snapshot): sha -> those paths. Reads trees only
 * (`--raw`), then asks the object store about every blob once; submodule links are not blobs.
 */
export async function findMissingBlobs(repoPath: string, tip: string, exclude: string | null): Promise<Map<string, MissingBlobPath[]>> {
  const args = ['log', '--first-parent', '--diff-merges=first-parent', '--raw', '--no-renames', '--no-abbrev', '-z', '--format=%x1e%H', tip];
  if (exclude !== null) args.push(`^${exclude}`);
  const entries: { sha: string; path: string; status: string; blobs: string[] }[] = [];
  const blobs = new Set<string>();
  let sha = '';
  let pending: { status: string; blobs: string[] } | null = null;
  for await (const raw of streamGitTokens(repoPath, args)) {
    let token = raw;
    if (pending !== null) {
      entries.push({ sha, path: decodePath(token), ...pending });
      pending = null;
      continue;
    }
    if (token[0] === 0x0a) token = token.subarray(1);
    if (token[0] === 0x1e) {
      sha = token.subarray(1).toString('latin1').trim();
      continue;
    }
    if (token[0] !== 0x3a /* ':' */) continue;
    // :oldmode newmode oldblob newblob status
    const [oldMode = '', newMode = '', oldBlob = '', newBlob = '', status = 'M'] = token.toString('latin1').slice(1).split(' ');
    const sides = [
      { mode: oldMode, blob: oldBlob },
      { mode: newMode, blob: newBlob },
    ].filter((s) => s.mode !== '160000' && !zeroSha.test(s.blob));
    for (const side of sides) blobs.add(side.blob);
    pending = { status: status.charAt(0), blobs: sides.map((s) => s.blob) };
  }
  const absent = new Set<string>();
  if (blobs.size > 0) {
    const check = await git(repoPath, ['cat-file', '--batch-check'], { input: [...blobs].join('\n') + '\n', allowFailure: true });
    for (const line of check.split('\n')) {
      const m = /^([0-9a-f]{40,64}) missing$/.exec(line);
      if (m?.[1] !== undefined) absent.add(m[1]);
    }
  }
  const out = new Map<string, MissingBlobPath[]>();
  if (absent.size === 0) return out;
  for (const entry of entries) {
    if (!entry.blobs.some((b) => absent.has(b))) continue;
    const list = out.get(entry.sha) ?? [];
    list.push({ path: entry.path, status: entry.status });
    out.set(entry.sha, list);
  }
  return out;
}

/**
 * Splits the mainline after `exclude` up to `tip` into ranges that can be streamed whole and the
 * commits that need a blob that is absent, which are read on their own without those paths.
 */
export async function planMainline(repoPath: string, tip: string, exclude: string | null, missing: ReadonlyMap<string, readonly MissingBlobPath[]>): Promise<MainlineStep[]> {
  if (missing.size === 0) return [{ kind: 'range', exclude, tip }];
  const args = ['rev-list', '--first-parent', '--reverse', tip];
  if (exclude !== null) args.push(`^${exclude}`);
  const shas = (await git(repoPath, args)).split('\n').filter((l) => l !== '');
  const steps: MainlineStep[] = [];
  let from = exclude;
  let previous = exclude;
  for (const sha of shas) {
    const paths = missing.get(sha);
    if (paths !== undefined) {
      if (previous !== from && previous !== null) steps.push({ kind: 'range', exclude: from, tip: previous });
      steps.push({ kind: 'commit', sha, parent: previous, missing: [...paths] });
      from = sha;
    }
    previous = sha;
  }
  if (previous !== from && previous !== null) steps.push({ kind: 'range', exclude: from, tip: previous });
  return steps;
}

/** The pathspecs that leave the given paths out of a diff. */
export function excludingPathspecs(paths: readonly string[]): string[] {
  return paths.length === 0 ? [] : ['.', ...paths.map((p) => `:(exclude,literal)${p}`)];
}

/**
 * Streams the first-parent history after `exclude` up to `tip`, oldest first, with each commit's
 * files against its first parent (merges included, so a merge shows the whole pull request).
 * `withLineCounts: false` reads trees only, for when blobs are absent and which ones is unknown.
 * `missing` (from `findMissingBlobs`) names the blobs that are absent: only the commits that need
 * them are read without those paths, whose files then carry no line counts (`added: null` and
 * `binary: false`); every other file keeps its counts.
 */
export async function* streamMainline(
  repoPath: string,
  tip: string,
  exclude: string | null,
  options: { withLineCounts: boolean; missing?: ReadonlyMap<string, readonly MissingBlobPath[]> | undefined },
): AsyncGenerator<MainlineDiff> {
  const missing = options.withLineCounts ? (options.missing ?? new Map<string, MissingBlobPath[]>()) : new Map<string, MissingBlobPath[]>();
  for (const step of await planMainline(repoPath, tip, exclude, missing)) {
    if (step.kind === 'range') {
      const args = ['log', '--first-parent', '--reverse', '-z', '--diff-merges=first-parent', '--format=%x1e%H', '--raw', '--no-abbrev'];
      if (options.withLineCounts) args.push('-M', '--numstat');
      else args.push('--no-renames');
      args.push(step.tip);
      if (step.exclude !== null) args.push(`^${step.exclude}`);
      yield* parseRawNumstat(streamGitTokens(repoPath, args), null);
      continue;
    }
    yield await readCommitWithout(repoPath, step);
  }
}

/** One commit read on its own, its absent-blob paths left out of the counts and listed with none. */
async function readCommitWithout(repoPath: string, step: Extract<MainlineStep, { kind: 'commit' }>): Promise<MainlineDiff> {
  const base = ['diff-tree', '-r', '-z', '--no-commit-id', '--raw', '--no-abbrev'];
  const revs = step.parent === null ? ['--root', step.sha] : [step.parent, step.sha];
  const paths = step.missing.map((m) => m.path);
  const unknown = (path: string, status: string): FileChange => ({ path, oldPath: null, status, added: null, deleted: null, binary: false });
  let diff: MainlineDiff = { sha: step.sha, files: [] };
  try {
    for await (const d of parseRawNumstat(streamGitTokens(repoPath, [...base, '-M', '--numstat', ...revs, '--', ...excludingPathspecs(paths)]), step.sha)) diff = d;
  } catch (error) {
    // Some other object of this commit is absent too: list its files from the trees alone.
    if (!isFlowgateError(error, 'GIT_OBJECT_MISSING')) throw error;
    for await (const d of parseRawNumstat(streamGitTokens(repoPath, [...base, '--no-renames', ...revs]), step.sha)) diff = d;
    return { sha: step.sha, files: diff.files.map((f) => unknown(f.path, f.status)) };
  }
  const listed = new Set(diff.files.map((f) => f.path));
  for (const m of step.missing) if (!listed.has(m.path)) diff.files.push(unknown(m.path, m.status));
  return diff;
}

/** The files of one `git diff -z --raw [--numstat] ...` (args from `diff` on), parsed and path-decoded as the miner stores them. */
export async function readDiffFiles(repoPath: string, args: readonly string[]): Promise<FileChange[]> {
  let files: FileChange[] = [];
  for await (const d of parseRawNumstat(streamGitTokens(repoPath, [...args]), '')) files = d.files;
  return files;
}

/**
 * Lines changed per path by `git diff -z --numstat ...` (args from `diff` on), paths decoded as the
 * miner stores them, renames keyed by the new path. Unlike --raw, --numstat leaves out files whose
 * every change an option such as -w hides, so the counts are keyed by path, not paired by position.
 */
export async function readNumstat(repoPath: string, args: readonly string[]): Promise<Map<string, { added: number | null; deleted: number | null }>> {
  const out = new Map<string, { added: number | null; deleted: number | null }>();
  let pending: { added: number | null; deleted: number | null } | null = null;
  let expectPaths = 0;
  for await (const token of streamGitTokens(repoPath, [...args])) {
    if (expectPaths > 0) {
      // A renamed file: its old path, then its new one.
      expectPaths -= 1;
      if (expectPaths === 0 && pending !== null) out.set(decodePath(token), pending);
      continue;
    }
    const text = token.toString('latin1');
    const match = numstatPattern.exec(text);
    if (match === null) continue;
    const counts = { added: match[1] === '-' ? null : Number(match[1]), deleted: match[2] === '-' ? null : Number(match[2]) };
    const path = token.subarray(Buffer.byteLength(match[0], 'latin1'));
    if (path.length > 0) {
      out.set(decodePath(path), counts);
      continue;
    }
    pending = counts;
    expectPaths = 2;
  }
  return out;
}

/** Parses `-z --raw [--numstat]` output into commits; output without `\x1e<sha>` headers belongs to `defaultSha`. */
async function* parseRawNumstat(tokens: AsyncIterable<Buffer>, defaultSha: string | null): AsyncGenerator<MainlineDiff> {
  let current: MainlineDiff | null = defaultSha === null ? null : { sha: defaultSha, files: [] };
  let counts: { added: number | null; deleted: number | null }[] = [];
  // Tokens that complete an entry: paths after a raw line, or the old/new pair of a renamed numstat line.
  let expectPaths = 0;
  let pendingRaw: { status: string } | null = null;
  let rawPaths: Buffer[] = [];
  let pendingNumstat: { added: number | null; deleted: number | null } | null = null;

  const finish = (): MainlineDiff | null => {
    if (current === null) return null;
    for (const [i, file] of current.files.entries()) {
      const count = counts[i];
      if (count === undefined) continue;
      file.added = count.added;
      file.deleted = count.deleted;
      file.binary = count.added === null;
    }
    return current;
  };

  for await (const raw of tokens) {
    let token = raw;
    if (expectPaths > 0) {
      expectPaths -= 1;
      if (pendingRaw !== null) {
        rawPaths.push(token);
        if (expectPaths === 0 && current !== null) {
          const renamed = rawPaths.length === 2;
          const path = decodePath(rawPaths[rawPaths.length - 1] ?? Buffer.alloc(0));
          current.files.push({
            path,
            oldPath: renamed ? decodePath(rawPaths[0] ?? Buffer.alloc(0)) : null,
            status: pendingRaw.status,
            added: null,
            deleted: null,
            binary: false,
          });
          pendingRaw = null;
          rawPaths = [];
        }
      } else if (expectPaths === 0 && pendingNumstat !== null) {
        counts.push(pendingNumstat);
        pendingNumstat = null;
      }
      continue;
    }
    if (token[0] === 0x0a) token = token.subarray(1);
    if (token[0] === 0x1e) {
      const done = finish();
      if (done !== null) yield done;
      current = { sha: token.subarray(1).toString('latin1').trim(), files: [] };
      counts = [];
      continue;
    }
    if (token.length === 0) continue;
    if (token[0] === 0x3a /* ':' */) {
      const fields = token.toString('latin1').split(' ');
      const status = (fields[4] ?? 'M').trim();
      pendingRaw = { status: status.charAt(0) };
      rawPaths = [];
      expectPaths = status.startsWith('R') || status.startsWith('C') ? 2 : 1;
      continue;
    }
    const text = token.toString('latin1');
    const match = numstatPattern.exec(text);
    if (match !== null) {
      const added = match[1] === '-' ? null : Number(match[1]);
      const deleted = match[2] === '-' ? null : Number(match[2]);
      const rest = text.slice(match[0].length);
      if (rest === '') {
        pendingNumstat = { added, deleted };
        expectPaths = 2;
      } else {
        counts.push({ added, deleted });
      }
    }
  }
  const done = finish();
  if (done !== null) yield done;
}

/** Git notes under refs/notes/* for the given commits: sha -> [{ref, body}]. */
export async function readNotes(repoPath: string): Promise<Map<string, { ref: string; body: string }[]>> {
  const refs = (await git(repoPath, ['for-each-ref', '--format=%(refname)', 'refs/notes/'], { allowFailure: true }))
    .split('\n')
    // git-ai mirrors its notes under refs/notes/ai-remote/*: the same notes again.
    .filter((r) => r !== '' && !r.startsWith('refs/notes/ai-remote/'));
  const notes = new Map<string, { ref: string; body: string }[]>();
  for (const ref of refs) {
    const list = await git(repoPath, ['notes', '--ref', ref, 'list'], { allowFailure: true });
    const pairs = list
      .split('\n')
      .map((line) => line.split(' '))
      .filter((p): p is [string, string] => p.length === 2);
    if (pairs.length === 0) continue;
    const bodies = await readBlobs(repoPath, pairs.map(([blob]) => blob));
    for (const [blob, commit] of pairs) {
      const body = bodies.get(blob);
      if (body === undefined) continue;
      const entry = notes.get(commit) ?? [];
      entry.push({ ref, body });
      notes.set(commit, entry);
    }
  }
  return notes;
}

/** Reads blobs' contents with one `git cat-file --batch`; absent blobs are left out. */
async function readBlobs(repoPath: string, shas: string[]): Promise<Map<string, string>> {
  const { spawn } = await import('node:child_process');
  const child = spawn('git', ['cat-file', '--batch'], { cwd: repoPath, stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.end(shas.join('\n') + '\n');
  const chunks: Buffer[] = [];
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) chunks.push(chunk);
  const data = Buffer.concat(chunks);
  const out = new Map<string, string>();
  let offset = 0;
  while (offset < data.length) {
    const eol = data.indexOf(0x0a, offset);
    if (eol === -1) break;
    const header = data.subarray(offset, eol).toString('latin1').split(' ');
    offset = eol + 1;
    if (header[1] === 'missing' || header.length < 3) continue;
    const size = Number(header[2]);
    out.set(header[0] ?? '', data.subarray(offset, offset + size).toString('utf8'));
    offset += size + 1;
  }
  return out;
}
