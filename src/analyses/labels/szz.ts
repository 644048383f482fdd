import { fileKind, languageOf, type FileKind } from '../features/file-kinds.ts';
import { meaningfulLines, squashWhitespace } from './comments.ts';
import type { CommitDiff, FileDiff } from './diff-stream.ts';

/** What SZZ needs to know about the mainline: positions by sha, and which changes to trace or skip. */
export interface SzzInput {
  /** Mainline sha -> change position (0 = oldest). */
  positions: Map<string, number>;
  /** Positions of the fixes to trace back (reverts are labelled directly, not traced). */
  fixes: Set<number>;
  /** Positions of changes that never introduce lines (.git-blame-ignore-revs). */
  ignored: Set<number>;
  /** Files touched per position, to skip very large changes. */
  filesChanged: (position: number) => number;
  options: SzzOptions;
}

export interface SzzOptions {
  traceKinds: readonly FileKind[];
  maxFixFiles: number;
  maxInducingFiles?: number | undefined;
  /** R-SZZ keeps only the most recent candidate per fix; `all` keeps every one. */
  pick: 'most-recent' | 'all';
}

/** A line of the fix's parent that the fix deleted or modified. */
export interface TracedLine {
  path: string;
  /** 1-based line number in the fix's parent. */
  line: number;
}

/** One SZZ result: the inducing change, the fix, and the lines that tie them. */
export interface SzzLabel {
  inducing: number;
  fix: number;
  lines: TracedLine[];
}

/** Shortest squashed line that may carry its origin across a move: `}` and `end` are too common to tell. */
const minMovedLength = 4;

/** Whether SZZ follows lines of this path at all. */
export function traced(path: string, kinds: readonly FileKind[]): boolean {
  return kinds.includes(fileKind(path));
}

/**
 * The deleted lines of a fix that count as modified: in a traced file, carrying code (not blank, not
 * a comment) and not re-added elsewhere in the same change modulo whitespace (a re-indent or a move
 * is no modification). Returns, per file, the 0-based indexes into the file's old lines.
 */
export function modifiedLines(files: readonly FileDiff[], kinds: readonly FileKind[]): Map<FileDiff, number[]> {
  const added = new Set<string>();
  for (const file of files) for (const hunk of file.hunks) for (const line of hunk.added) added.add(squashWhitespace(line));
  const out = new Map<FileDiff, number[]>();
  for (const file of files) {
    if (file.oldPath === null || file.binary || !traced(file.oldPath, kinds)) continue;
    const language = languageOf(file.oldPath);
    const indexes: number[] = [];
    for (const hunk of file.hunks) {
      const meaningful = meaningfulLines(hunk.deleted, language);
      for (const [k, line] of hunk.deleted.entries()) {
        if (meaningful[k] !== true || added.has(squashWhitespace(line))) continue;
        indexes.push(hunk.oldStart - 1 + k);
      }
    }
    if (indexes.length > 0) out.set(file, indexes);
  }
  return out;
}

/** Keeps the candidates R-SZZ (or `all`) selects and drops changes too large to be meaningful. */
export function selectCandidates(fix: number, byInducing: Map<number, TracedLine[]>, input: Pick<SzzInput, 'filesChanged' | 'options'>): SzzLabel[] {
  const max = input.options.maxInducingFiles;
  const eligible = [...byInducing.entries()].filter(([p]) => p >= 0 && p < fix && (max === undefined || input.filesChanged(p) <= max));
  if (eligible.length === 0) return [];
  eligible.sort((a, b) => b[0] - a[0]);
  const chosen = input.options.pick === 'most-recent' ? eligible.slice(0, 1) : eligible;
  return chosen.map(([inducing, lines]) => ({ inducing, fix, lines }));
}

/**
 * Line origins for the whole mainline in one pass: per file, the position of the change that
 * introduced each current line. Feed commits oldest first; fixes are traced before their own
 * diff is applied. Moved and re-indented lines keep their origin; ignored revisions pass origins on.
 */
export function createOriginTracker(input: SzzInput): { apply(commit: CommitDiff): void; labels: SzzLabel[] } {
  const origins = new Map<string, number[]>();
  const labels: SzzLabel[] = [];
  const { options } = input;

  const apply = (commit: CommitDiff): void => {
    const position = input.positions.get(commit.sha) ?? -1;
    if (input.fixes.has(position) && commit.files.length <= options.maxFixFiles) trace(position, commit);

    // Origins of every deleted line by content, so a moved line keeps where it came from.
    const moved = new Map<string, number[]>();
    for (const file of commit.files) {
      if (file.oldPath === null || file.binary) continue;
      const old = origins.get(file.oldPath);
      for (const hunk of file.hunks) {
        for (const [k, line] of hunk.deleted.entries()) {
          const key = squashWhitespace(line);
          if (key.length < minMovedLength) continue;
          const origin = old?.[hunk.oldStart - 1 + k] ?? -1;
          if (origin < 0) continue;
          const list = moved.get(key);
          if (list === undefined) moved.set(key, [origin]);
          else list.push(origin);
        }
      }
    }
    const ignored = input.ignored.has(position);
    const nextByPath = new Map<string, number[]>();
    for (const file of commit.files) {
      const before = file.oldPath === null ? [] : (origins.get(file.oldPath) ?? []);
      if (file.newPath === null) continue;
      if (file.binary) {
        nextByPath.set(file.newPath, []);
        continue;
      }
      const next = file.oldPath === file.newPath ? before : before.slice();
      // Bottom-up, so earlier hunks' old line numbers stay valid.
      for (let h = file.hunks.length - 1; h >= 0; h--) {
        const hunk = file.hunks[h];
        if (hunk === undefined) continue;
        const fresh = hunk.added.map((line, j) => {
          const key = squashWhitespace(line);
          const from = key.length >= minMovedLength ? moved.get(key)?.shift() : undefined;
          if (from !== undefined) return from;
          if (ignored) return j < hunk.oldCount ? (before[hunk.oldStart - 1 + j] ?? -1) : -1;
          return position;
        });
        const at = hunk.oldCount === 0 ? hunk.oldStart : hunk.oldStart - 1;
        spliceInto(next, at, hunk.oldCount, fresh);
      }
      nextByPath.set(file.newPath, next);
    }
    for (const file of commit.files) if (file.oldPath !== null) origins.delete(file.oldPath);
    for (const [path, next] of nextByPath) origins.set(path, next);
  };

  const trace = (fix: number, commit: CommitDiff): void => {
    const byInducing = new Map<number, TracedLine[]>();
    for (const [file, indexes] of modifiedLines(commit.files, options.traceKinds)) {
      const old = origins.get(file.oldPath ?? '');
      for (const index of indexes) {
        const origin = old?.[index] ?? -1;
        if (origin < 0 || input.ignored.has(origin)) continue;
        const list = byInducing.get(origin) ?? [];
        list.push({ path: file.oldPath ?? '', line: index + 1 });
        byInducing.set(origin, list);
      }
    }
    labels.push(...selectCandidates(fix, byInducing, input));
  };

  return { apply, labels };
}

/** Array.prototype.splice without spreading huge arguments onto the stack. */
function spliceInto(target: number[], at: number, remove: number, insert: number[]): void {
  // A file whose earlier lines are unknown (its blob was absent) is shorter than the diff says: pad it.
  while (target.length < at) target.push(-1);
  if (insert.length < 10_000) {
    target.splice(at, remove, ...insert);
    return;
  }
  const tail = target.splice(at + remove);
  target.length = at;
  for (const v of insert) target.push(v);
  for (const v of tail) target.push(v);
}
