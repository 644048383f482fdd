import { gitSync as runGit, readFileAt } from '../../sources/git/git.ts';

// The git miner (src/sources/git) owns history mining; routing needs only a few bounded reads at
// the base revision (a diff, blame of the change's own files, files at base), kept here.

/** One file a change touches, with its line counts (null for binary files). */
export interface ChangedPath {
  path: string;
  added?: number | null;
  deleted?: number | null;
}

/** The files `head` changes against its merge base with `base` (what a PR shows), with line counts. */
export function changedPaths(repoPath: string, base: string, head: string): ChangedPath[] {
  const out = runGit(repoPath, ['diff', '--numstat', '-z', '-M', `${base}...${head}`]);
  const parts = out.split('\0');
  const files: ChangedPath[] = [];
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i];
    if (entry === undefined || entry === '') continue;
    const [added, deleted, path] = entry.split('\t');
    if (added === undefined || deleted === undefined) continue;
    let finalPath = path ?? '';
    // A rename prints an empty path then the old and the new path as separate fields.
    if (finalPath === '') {
      finalPath = parts[i + 2] ?? '';
      i += 2;
    }
    const count = (value: string): number | null => (value === '-' ? null : Number(value));
    files.push({ path: finalPath, added: count(added), deleted: count(deleted) });
  }
  return files;
}

/** `Name <email>` of every author of the commits `head` adds over `base`. */
export function commitAuthors(repoPath: string, base: string, head: string): string[] {
  const out = runGit(repoPath, ['log', '--use-mailmap', '--format=%aN <%aE>', `${base}..${head}`]);
  return [...new Set(out.split('\n').filter((line) => line !== ''))];
}

/** The revisions listed in `.git-blame-ignore-revs` at `rev` that exist in the repository. */
export function blameIgnoreRevs(repoPath: string, rev: string): string[] {
  const text = readFileAt(repoPath, rev, '.git-blame-ignore-revs');
  if (text === null) return [];
  const listed = text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => /^[0-9a-f]{7,40}$/i.test(line));
  return existingCommits(repoPath, listed);
}

/** The subset of `revs` that name commits present in the repository, as full shas. */
export function existingCommits(repoPath: string, revs: string[]): string[] {
  if (revs.length === 0) return [];
  const out = runGit(repoPath, ['cat-file', '--batch-check=%(objectname) %(objecttype)'], { input: revs.map((r) => `${r}^{commit}`).join('\n') + '\n' });
  return out
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[1] === 'commit')
    .map((fields) => fields[0] ?? '');
}

/** Lines of a file at `rev` grouped by the commit that last changed them (whitespace ignored). */
export interface BlameGroup {
  sha: string;
  authorName: string;
  authorEmail: string;
  authorTime: number;
  lines: number;
}

/** `git blame -w --line-porcelain` of one file at `rev`, skipping `ignoreRevs`; null when the file is absent or binary there. */
export function blameFile(repoPath: string, rev: string, path: string, ignoreRevs: readonly string[]): BlameGroup[] | null {
  const args = ['blame', '-w', '--line-porcelain'];
  for (const sha of ignoreRevs) args.push('--ignore-rev', sha);
  args.push(rev, '--', path);
  let out: string;
  try {
    out = runGit(repoPath, args);
  } catch {
    return null;
  }
  const groups = new Map<string, BlameGroup>();
  let current: BlameGroup | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('\t')) {
      if (current !== undefined) current.lines += 1;
      continue;
    }
    const header = /^([0-9a-f]{40}) \d+ \d+/.exec(line);
    if (header !== null) {
      const sha = header[1] ?? '';
      current = groups.get(sha);
      if (current === undefined) {
        current = { sha, authorName: '', authorEmail: '', authorTime: 0, lines: 0 };
        groups.set(sha, current);
      }
      continue;
    }
    if (current === undefined) continue;
    if (line.startsWith('author ')) current.authorName = line.slice(7);
    else if (line.startsWith('author-mail ')) current.authorEmail = line.slice(12).replace(/^<|>$/g, '');
    else if (line.startsWith('author-time ')) current.authorTime = Number(line.slice(12));
  }
  return [...groups.values()];
}

/**
 * True when a commit changes nothing but whitespace and blank lines against its first parent
 * (a mass reformat): `git diff -w --ignore-blank-lines` then has no hunk at all.
 */
export function isFormattingOnly(repoPath: string, sha: string): boolean {
  let out: string;
  try {
    out = runGit(repoPath, ['diff', '-w', '--ignore-blank-lines', '-U0', '--no-color', '--no-ext-diff', `${sha}^`, sha]);
  } catch {
    return false; // a root commit, or a sha the clone lacks: not provably formatting
  }
  return !/^@@ /m.test(out) && !/^(Binary files|new file mode|deleted file mode)/m.test(out);
}
