import { FlowgateError } from '../../core/errors.ts';
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

const numstatPattern = /^(\d+|-)\t(\d+|-)\t/;

/**
 * Streams the first-parent history after `exclude` up to `tip`, oldest first, with each commit's
 * files against its first parent (merges included, so a merge shows the whole pull request).
 * `withLineCounts: false` reads trees only, for partial clones whose blobs are absent.
 */
export async function* streamMainline(
  repoPath: string,
  tip: string,
  exclude: string | null,
  options: { withLineCounts: boolean },
): AsyncGenerator<MainlineDiff> {
  const args = ['log', '--first-parent', '--reverse', '-z', '--diff-merges=first-parent', '--format=%x1e%H', '--raw', '--no-abbrev'];
  if (options.withLineCounts) args.push('-M', '--numstat');
  else args.push('--no-renames');
  args.push(tip);
  if (exclude !== null) args.push(`^${exclude}`);

  let current: MainlineDiff | null = null;
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

  for await (const raw of streamGitTokens(repoPath, args)) {
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
