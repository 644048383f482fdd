import { fileKind, type FileKind } from './file-kinds.ts';

/** Bump when the features' meaning changes: stored rows of an older version are recomputed. */
export const featuresVersion = 4;

/** One file of a change, as stored. */
export interface FeatureFile {
  path: string;
  oldPath: string | null;
  status: string;
  added: number | null;
  deleted: number | null;
}

/** What the feature pass reads of each change. */
export interface FeatureChange {
  position: number;
  /** When the change landed on the mainline (commit time, Unix seconds). */
  time: number;
  authorId: number;
  kind: string;
  provenance: string;
  /** Commits the change brought (1 for a direct commit). */
  commits: number;
  /** The subject, or a merge's PR title (first body line): the change's stated purpose. */
  title?: string;
  files: FeatureFile[];
  /**
   * Fixes that landed by this time are known when the change's features are taken (default: its
   * own time; the pass never forgets what an earlier change knew). A proposed change scored after
   * the stored history knows everything the history knew.
   */
  knownBy?: number;
}

/** What was known about fixes and defects, each with the time it became known. */
export interface FeatureKnowledge {
  /** Positions of changes recognised as fixes (known at their own time). */
  fixes: ReadonlySet<number>;
  reverts: ReadonlySet<number>;
  /** SZZ labels: the inducing change and when its fix landed. */
  labels: readonly { inducing: number; knownAt: number }[];
}

/** Features of one change: Kamei's fourteen plus flowgate's own, all numbers. */
export type ChangeFeatures = Record<string, number>;

interface FileState {
  lines: number;
  kind: FileKind;
  lastTime: number;
  /** Positions of the changes that touched the file, oldest first. */
  changes: number[];
  developers: Set<number>;
  fixes: number;
  /** Known defect-inducing changes that touched the file. */
  bugs: number;
}

/** A folder's history: changes, fixes and known defects that touched files directly in it. */
export interface DirHistory {
  changes: number;
  fixes: number;
  bugs: number;
}

/** What an author did before: changes, by year and by top-level folder, and known defects among them. */
export interface AuthorHistory {
  changes: number;
  /** Changes by `yearOf` their time. */
  byYear: Map<number, number>;
  bySubsystem: Map<string, number>;
  bugs: number;
}
type AuthorState = AuthorHistory;
type DirState = DirHistory;

/** What changes left out of a pass over part of the history did: by author, and by folder. */
export interface PassSeed {
  authors?: ReadonlyMap<number, AuthorHistory>;
  /**
   * Every folder's whole history before the pass's last change, which must be the only one wanted:
   * its folder features are read from here and the pass counts no folders itself.
   */
  dirTotals?: ReadonlyMap<string, DirHistory>;
}

const day = 86_400;
/** Changes to the touched files within this window count as recent activity. */
const recentWindow = 30 * day;

/** Stated purposes of a change, from words of its subject (Kamei's FIX is one such purpose). */
const purposes: [string, RegExp][] = [
  ['msg_feature', /\b(add|adds|added|implement|implements|introduce|introduces|support|new|allow|enable)\b/i],
  ['msg_refactor', /\b(refactor|refactors|refactoring|cleanup|clean up|clean-up|polish|simplify|rename|move|reorganize|restructure)\b/i],
  ['msg_docs', /\b(doc|docs|documentation|readme|javadoc|comment|comments|typo|typos|changelog)\b/i],
  ['msg_test', /\b(test|tests|testing|spec|specs)\b/i],
  ['msg_deps', /\b(upgrade|bump|bumps|update|updates|dependency|dependencies)\b/i],
];
const year = 365.25 * day;

/** The year index REXP weighs an author's changes by. */
export function yearOf(time: number): number {
  return Math.floor(time / year);
}
const kindNames: FileKind[] = ['code', 'test', 'docs', 'config', 'lockfile', 'migration', 'build', 'other'];

/** The top-level folder of a path ('' for files at the root): Kamei's subsystem. */
export function subsystemOf(path: string): string {
  const slash = path.indexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

/** The folder a file is directly in ('' for the root). */
export function directoryOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

/**
 * Computes every change's features as of its own time, in ONE chronological pass: per-file state
 * (line count from accumulated added - deleted, following renames; developers; last change; the
 * changes, fixes and known defects that touched it) and per-author state (changes, by year and by
 * subsystem; known defects). A defect counts only from the moment its fix landed. `wanted` limits
 * which changes' features are returned (the state is still built from all of them). `seed` holds
 * what authors and folders did in changes left out of `changes` (a pass over part of the history).
 */
export function computeFeatures(changes: readonly FeatureChange[], knowledge: FeatureKnowledge, wanted?: (position: number) => boolean, seed: PassSeed = {}): Map<number, ChangeFeatures> {
  const files = new Map<string, FileState>();
  const authors = new Map<number, AuthorState>();
  for (const [id, a] of seed.authors ?? []) authors.set(id, { changes: a.changes, byYear: new Map(a.byYear), bySubsystem: new Map(a.bySubsystem), bugs: a.bugs });
  // What each defect-inducing change touched, so its label reaches those files, folders and author.
  type Touched = { files: FileState[]; dirs: DirState[]; author: AuthorState };
  const touchedBy = new Map<number, Touched>();
  const inducing = new Set(knowledge.labels.map((l) => l.inducing));
  const knownEarly = new Set<number>();
  const applyLabel = (touched: Touched): void => {
    for (const state of touched.files) state.bugs += 1;
    for (const state of touched.dirs) state.bugs += 1;
    touched.author.bugs += 1;
  };
  const dirs = new Map<string, DirState>();
  for (const [dir, d] of seed.dirTotals ?? []) dirs.set(dir, { ...d });
  const countDirs = seed.dirTotals === undefined;
  const labels = [...knowledge.labels].sort((a, b) => a.knownAt - b.knownAt);
  const counted = new Set<number>();
  let nextLabel = 0;
  const times = new Float64Array(changes.reduce((m, c) => Math.max(m, c.position + 1), 0));
  for (const c of changes) times[c.position] = c.time;
  const stamp = new Int32Array(changes.reduce((m, c) => Math.max(m, c.position + 1), 0));
  let stampValue = 0;
  const out = new Map<number, ChangeFeatures>();
  // Paths recur across a history (each is classified by several regular expressions): once per path per pass.
  const kinds = new Map<string, FileKind>();
  const kindOf = (path: string): FileKind => {
    let kind = kinds.get(path);
    if (kind === undefined) {
      kind = fileKind(path);
      kinds.set(path, kind);
    }
    return kind;
  };

  // Scratch space of the wanted changes' own features, reused (a pass can hold tens of thousands of changes).
  const kindCounts = new Map<FileKind, number>();
  const developers = new Set<number>();
  const churnByFile: number[] = [];

  for (const change of [...changes].sort((a, b) => a.position - b.position)) {
    // Defects whose fixes landed by now become known: on the files and to the author.
    const clock = change.knownBy ?? change.time;
    while (nextLabel < labels.length && (labels[nextLabel]?.knownAt ?? Infinity) <= clock) {
      const label = labels[nextLabel++];
      if (label === undefined || counted.has(label.inducing)) continue;
      counted.add(label.inducing);
      const touched = touchedBy.get(label.inducing);
      // Its fix is known before the pass reached the inducing change (commit times that tie, as a
      // rebased series' do, or run backwards): it applies as soon as that change is in.
      if (touched === undefined) knownEarly.add(label.inducing);
      else applyLabel(touched);
    }

    const author: AuthorState = authors.get(change.authorId) ?? { changes: 0, byYear: new Map<number, number>(), bySubsystem: new Map<string, number>(), bugs: 0 };
    authors.set(change.authorId, author);
    const isFix = knowledge.fixes.has(change.position);
    const want = wanted === undefined || wanted(change.position);
    const subsystems = new Set<string>();
    const directories = new Set<string>();
    kindCounts.clear();
    let la = 0;
    let ld = 0;
    let lt = 0;
    let laTest = 0;
    let laCode = 0;
    let ldCode = 0;
    let ltCode = 0;
    let recent = 0;
    let ageSum = 0;
    let aged = 0;
    let priorFixes = 0;
    let priorBugs = 0;
    let created = 0;
    let removed = 0;
    let renamed = 0;
    developers.clear();
    churnByFile.length = 0;
    stampValue += 1;
    let nuc = 0;

    for (const file of change.files) {
      subsystems.add(subsystemOf(file.path));
      if (want || countDirs) directories.add(directoryOf(file.path));
      // The rest only feeds this change's own features: skipped when they are not wanted.
      if (!want) continue;
      const previous = files.get(file.oldPath ?? file.path);
      const added = file.added ?? 0;
      const deleted = file.deleted ?? 0;
      la += added;
      ld += deleted;
      churnByFile.push(added + deleted);
      const kind = kindOf(file.path);
      kindCounts.set(kind, (kindCounts.get(kind) ?? 0) + 1);
      if (kind === 'test') laTest += added;
      if (kind === 'code') {
        laCode += added;
        ldCode += deleted;
      }
      if (file.status === 'A') created += 1;
      if (file.status === 'D') removed += 1;
      if (file.status === 'R') renamed += 1;
      if (previous === undefined) continue;
      lt += previous.lines;
      if (previous.kind === 'code') ltCode += previous.lines;
      for (let k = previous.changes.length - 1; k >= 0; k--) {
        const p = previous.changes[k] ?? 0;
        if ((times[p] ?? 0) < change.time - recentWindow) break;
        recent += 1;
      }
      ageSum += (change.time - previous.lastTime) / day;
      aged += 1;
      priorFixes += previous.fixes;
      priorBugs += previous.bugs;
      for (const d of previous.developers) developers.add(d);
      for (const p of previous.changes) {
        if (stamp[p] === stampValue) continue;
        stamp[p] = stampValue;
        nuc += 1;
      }
    }

    if (want) {
      const churn = la + ld;
      let entropy = 0;
      if (churn > 0) {
        for (const c of churnByFile) {
          if (c === 0) continue;
          const p = c / churn;
          entropy -= p * Math.log2(p);
        }
      }
      let dirChanges = 0;
      let dirFixes = 0;
      let dirBugs = 0;
      for (const d of directories) {
        const state = dirs.get(d);
        if (state === undefined) continue;
        dirChanges += state.changes;
        dirFixes += state.fixes;
        dirBugs += state.bugs;
      }
      const nowYear = yearOf(change.time);
      let rexp = 0;
      for (const [y, n] of author.byYear) rexp += n / (nowYear - y + 1);
      let sexp = 0;
      for (const s of subsystems) sexp += author.bySubsystem.get(s) ?? 0;
      const features: ChangeFeatures = {
        ns: subsystems.size,
        nd: directories.size,
        nf: change.files.length,
        entropy,
        la,
        ld,
        lt,
        fix: isFix ? 1 : 0,
        ndev: developers.size,
        age: aged === 0 ? 0 : ageSum / aged,
        nuc,
        exp: author.changes,
        rexp,
        sexp,
        revert: knowledge.reverts.has(change.position) ? 1 : 0,
        la_code: laCode,
        ld_code: ldCode,
        lt_code: ltCode,
        recent_file_changes: recent,
        la_test: laTest,
        files_new: created,
        files_deleted: removed,
        files_renamed: renamed,
        prior_fixes: priorFixes,
        prior_bugs: priorBugs,
        dir_changes: dirChanges,
        dir_fixes: dirFixes,
        dir_bugs: dirBugs,
        author_bugs: author.bugs,
        author_bug_rate: author.bugs / (author.changes + 1),
        merge: change.kind === 'merge' || change.kind === 'octopus' ? 1 : 0,
        commits: change.commits,
        prov_ai: change.provenance === 'ai-assisted' ? 1 : 0,
        prov_agent: change.provenance === 'agent' ? 1 : 0,
        prov_automation: change.provenance === 'automation' ? 1 : 0,
      };
      for (const kind of kindNames) features[`nf_${kind}`] = kindCounts.get(kind) ?? 0;
      for (const [name, pattern] of purposes) features[name] = change.title !== undefined && pattern.test(change.title) ? 1 : 0;
      out.set(change.position, features);
    }

    // Update the state with this change, after its own features were taken.
    const touched: FileState[] = [];
    for (const file of change.files) {
      const key = file.oldPath ?? file.path;
      const state = files.get(key) ?? { lines: 0, kind: 'other', lastTime: 0, changes: [], developers: new Set<number>(), fixes: 0, bugs: 0 };
      state.kind = kindOf(file.path);
      if (file.oldPath !== null && file.oldPath !== file.path) files.delete(file.oldPath);
      state.lines = Math.max(0, state.lines + (file.added ?? 0) - (file.deleted ?? 0));
      state.lastTime = change.time;
      state.changes.push(change.position);
      state.developers.add(change.authorId);
      if (isFix) state.fixes += 1;
      if (file.status === 'D') files.delete(file.path);
      else files.set(file.path, state);
      touched.push(state);
    }
    const touchedDirs: DirState[] = [];
    if (countDirs) {
      for (const d of directories) {
        const state = dirs.get(d) ?? { changes: 0, fixes: 0, bugs: 0 };
        dirs.set(d, state);
        state.changes += 1;
        if (isFix) state.fixes += 1;
        touchedDirs.push(state);
      }
    }
    if (inducing.has(change.position)) {
      const what = { files: touched, dirs: touchedDirs, author };
      touchedBy.set(change.position, what);
      if (knownEarly.delete(change.position)) applyLabel(what);
    }
    author.changes += 1;
    const y = yearOf(change.time);
    author.byYear.set(y, (author.byYear.get(y) ?? 0) + 1);
    for (const s of subsystems) author.bySubsystem.set(s, (author.bySubsystem.get(s) ?? 0) + 1);
  }
  return out;
}
