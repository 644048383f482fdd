import { streamGitLines } from '../../sources/git/git.ts';
import { decodePath } from '../../sources/git/decode.ts';

/** One hunk of a zero-context diff: old lines [oldStart, oldStart+oldCount) became the added lines. */
export interface Hunk {
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  deleted: string[];
  added: string[];
}

/** One file of a commit's diff against its first parent. */
export interface FileDiff {
  /** null for an added file. */
  oldPath: string | null;
  /** null for a deleted file. */
  newPath: string | null;
  binary: boolean;
  hunks: Hunk[];
}

/** One commit's diff, as `git log -p -U0` prints it. */
export interface CommitDiff {
  sha: string;
  files: FileDiff[];
}

/** Options every diff we parse is produced with: zero context, fixed prefixes, renames, no colours or drivers. */
export const diffArgs = ['-U0', '--no-color', '--no-ext-diff', '--no-textconv', '--src-prefix=a/', '--dst-prefix=b/', '-M', '--ignore-submodules'];


/** Reverses git's C-style quoting of a path (`"a/\303\251"`) and strips the a/ or b/ prefix; bytes are latin1 chars. */
export function unquotePath(text: string): string | null {
  let raw = text;
  if (raw === '/dev/null') return null;
  if (raw.startsWith('"') && raw.endsWith('"')) {
    const bytes: number[] = [];
    const body = raw.slice(1, -1);
    const escapes: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
    for (let i = 0; i < body.length; i++) {
      const ch = body.charCodeAt(i);
      if (ch !== 92) {
        bytes.push(ch & 0xff);
        continue;
      }
      const next = body[i + 1] ?? '';
      if (/[0-7]/.test(next)) {
        bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
        i += 3;
      } else {
        bytes.push(escapes[next] ?? next.charCodeAt(0));
        i += 1;
      }
    }
    raw = Buffer.from(bytes).toString('latin1');
  }
  if (raw.startsWith('a/') || raw.startsWith('b/')) raw = raw.slice(2);
  return decodePath(Buffer.from(raw, 'latin1'));
}

const hunkHeader = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/**
 * Parses the diff text of one or many commits, line by line. A commit starts at a line `\x00<sha>`
 * (our log format); `git diff` output without such a line belongs to the sha given by `defaultSha`.
 */
export function createDiffParser(onCommit: (commit: CommitDiff) => void, defaultSha = ''): { line(text: string): void; end(): void } {
  let commit: CommitDiff | null = defaultSha === '' ? null : { sha: defaultSha, files: [] };
  let file: FileDiff | null = null;
  let hunk: Hunk | null = null;
  let oldLeft = 0;
  let newLeft = 0;
  let headerPaths: [string | null, string | null] | null = null;

  const flush = (): void => {
    if (commit !== null) onCommit(commit);
  };
  const startFile = (header: string): void => {
    file = { oldPath: null, newPath: null, binary: false, hunks: [] };
    commit?.files.push(file);
    hunk = null;
    headerPaths = splitHeader(header);
    if (headerPaths !== null) [file.oldPath, file.newPath] = headerPaths;
  };

  return {
    line(text: string): void {
      if (hunk !== null && (oldLeft > 0 || newLeft > 0)) {
        const first = text.charCodeAt(0);
        if (first === 45 /* - */ && oldLeft > 0) {
          hunk.deleted.push(text.slice(1));
          oldLeft -= 1;
          return;
        }
        if (first === 43 /* + */ && newLeft > 0) {
          hunk.added.push(text.slice(1));
          newLeft -= 1;
          return;
        }
        if (first === 92 /* \ No newline */) return;
      }
      if (text.charCodeAt(0) === 0) {
        flush();
        commit = { sha: text.slice(1).trim(), files: [] };
        file = null;
        hunk = null;
        return;
      }
      if (text.startsWith('diff --git ')) {
        startFile(text.slice('diff --git '.length));
        return;
      }
      if (file === null) return;
      const current: FileDiff = file;
      if (text.startsWith('@@')) {
        const m = hunkHeader.exec(text);
        if (m === null) return;
        hunk = {
          oldStart: Number(m[1]),
          oldCount: m[2] === undefined ? 1 : Number(m[2]),
          newStart: Number(m[3]),
          newCount: m[4] === undefined ? 1 : Number(m[4]),
          deleted: [],
          added: [],
        };
        oldLeft = hunk.oldCount;
        newLeft = hunk.newCount;
        current.hunks.push(hunk);
        return;
      }
      if (text === '' || text.charCodeAt(0) === 92) return;
      if (text.startsWith('--- ')) current.oldPath = unquotePath(text.slice(4));
      else if (text.startsWith('+++ ')) current.newPath = unquotePath(text.slice(4));
      else if (text.startsWith('rename from ')) current.oldPath = unquotePath(text.slice('rename from '.length));
      else if (text.startsWith('rename to ')) current.newPath = unquotePath(text.slice('rename to '.length));
      else if (text.startsWith('new file mode')) current.oldPath = null;
      else if (text.startsWith('deleted file mode')) current.newPath = null;
      else if (text.startsWith('Binary files ') || text === 'GIT binary patch') current.binary = true;
    },
    end(): void {
      flush();
      commit = null;
    },
  };
}

/** The two paths of a `diff --git a/x b/x` header when they can be told apart (always when equal). */
function splitHeader(header: string): [string | null, string | null] | null {
  if (header.startsWith('"')) {
    const close = header.indexOf('" ', 1);
    if (close === -1) return null;
    return [unquotePath(header.slice(0, close + 1)), unquotePath(header.slice(close + 2))];
  }
  // Unquoted: "a/P b/P" for modifications; renames carry `rename from/to` lines that override this.
  const half = (header.length - 1) / 2;
  if (Number.isInteger(half) && header.slice(2, half) === header.slice(half + 3)) {
    const path = unquotePath(header.slice(0, half));
    return [path, path];
  }
  const split = header.indexOf(' b/');
  if (split === -1) return null;
  return [unquotePath(header.slice(0, split)), unquotePath(header.slice(split + 1))];
}

/** Runs git and feeds its output to a diff parser, line by line; resolves when git exits 0. */
export async function streamDiffs(repoPath: string, args: string[], onCommit: (commit: CommitDiff) => void, defaultSha = ''): Promise<void> {
  const parser = createDiffParser(onCommit, defaultSha);
  // The shared runner maps git's failures (missing objects included) to FlowgateErrors by cause.
  for await (const line of streamGitLines(repoPath, args)) parser.line(line);
  parser.end();
}
