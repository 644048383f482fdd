import { sql } from 'kysely';
import type { Store } from '../../store/store.ts';
import type { RoutingConfig } from './config.ts';
import { blameFile, blameIgnoreRevs, isFormattingOnly } from './git.ts';
import { changeWindow } from './folder-window.ts';
import type { ReviewHistory } from './history.ts';
import { looksLikeBot, personFromSpec, personMatches, type Person } from './people.ts';

/** Decayed evidence of one person on one file or folder, by source. */
export interface Evidence {
  /** Decayed surviving lines (git blame at base). */
  lines: number;
  /** Decayed count of changes that touched it. */
  changes: number;
  /** Decayed count of reviews of changes that touched it. */
  reviews: number;
  /** Raw counts, for explanations. */
  rawLines: number;
  rawChanges: number;
  rawReviews: number;
}

/** Everything known about who knows one path (a file, or the folder holding it). */
export interface PathEvidence {
  path: string;
  byPerson: Map<string, Evidence>;
  /** Whether blame ran for this file (lines are then a usable source). */
  blamed: boolean;
}

/** The evidence about the files of one change and their folders. */
export interface ExpertiseEvidence {
  files: PathEvidence[];
  folders: Map<string, PathEvidence>;
  people: Map<string, Person>;
  /** Last change or review per person key (Unix seconds). */
  lastActive: Map<string, number>;
  /** Changes left out of expertise as formatting-only or listed in .git-blame-ignore-revs. */
  excludedShas: string[];
  /** How long each part took, in milliseconds. */
  timings: Record<string, number>;
}

export interface GatherOptions {
  /** Only the connection is used, so a service holding a bare Kysely can pass `{ db }`. */
  store: Pick<Store, 'db'>;
  repoId: number;
  paths: readonly string[];
  config: RoutingConfig;
  now: number;
  reviewHistory?: ReviewHistory | undefined;
  /** When given, blame the files at `base` (surviving lines) and detect formatting-only changes. */
  git?: { repoPath: string; base: string } | undefined;
  /** Shas to leave out as formatting (e.g. labelled by another analysis). */
  formattingShas?: readonly string[] | undefined;
  /** People to load even without history here (seniors, owners, open-request holders). */
  extraSpecs?: readonly string[] | undefined;
  /** Folders with more file rows than this are summed from the window held in memory (default 300; tests set 0 to compare both ways). */
  bigFolderRows?: number | undefined;
}

const dayS = 86_400;
/** At most this many changes are checked with `git diff -w` for being formatting-only, newest first. */
const maxFormattingChecks = 40;
/** At most this many files are blamed per decision (a change touching more is a mass change). */
const maxBlamedFiles = 40;
/** At most this many folders get folder-level evidence. */
const maxFolders = 20;
/** A folder with more file rows than this is read from the window of recent changes held in memory (folder-window.ts); by path, a few hundred rows cost a few milliseconds. */
const bigFolderRows = 300;
/** Without that window, a big folder is read from the changes in the horizon when its file rows outnumber them this many times (a change has a few files). */
const folderPlanRatio = 3;

/** Exponential decay: 1 now, 1/2 after one half-life. */
export function decay(ageSeconds: number, halfLifeDays: number): number {
  return 0.5 ** (Math.max(0, ageSeconds) / (halfLifeDays * dayS));
}

/** The folder holding a path ('' at the root). */
export function folderOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function emptyEvidence(): Evidence {
  return { lines: 0, changes: 0, reviews: 0, rawLines: 0, rawChanges: 0, rawReviews: 0 };
}

function evidenceOf(target: PathEvidence, key: string): Evidence {
  let e = target.byPerson.get(key);
  if (e === undefined) {
    e = emptyEvidence();
    target.byPerson.set(key, e);
  }
  return e;
}

/** A change that touched a file: who wrote it, who merged it, when. */
export interface HistoryRow {
  path: string;
  changeId: number;
  sha: string;
  kind: string;
  authorId: number;
  time: number;
  added: number;
  deleted: number;
}

/**
 * Gathers the decayed expertise evidence for the files of one change: surviving lines (blame at
 * base, whitespace ignored, formatting and ignored revisions skipped), changes to each file and its
 * folder (merge commits credit the branch's authors, and the merger with a review), and reviews.
 */
export async function gatherEvidence(options: GatherOptions): Promise<ExpertiseEvidence> {
  const { store, repoId, config, now } = options;
  const db = store.db;
  const timings: Record<string, number> = {};
  const time = async <T>(label: string, fn: () => Promise<T> | T): Promise<T> => {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      timings[label] = (timings[label] ?? 0) + performance.now() - started;
    }
  };
  const paths = [...new Set(options.paths)];
  const folders = [...new Set(paths.map(folderOf).filter((f) => f !== ''))].slice(0, maxFolders);
  // Beyond four half-lives (1/16 weight) folder evidence is noise; bounding it keeps big folders cheap.
  const horizon = now - 4 * config.halfLifeDays * dayS;

  const selectHistory = () =>
    db
      .selectFrom('change_files as cf')
      .innerJoin('changes as c', 'c.id', 'cf.change_id')
      .select(['cf.path', 'c.repo_id as repoId', 'c.id as changeId', 'c.sha', 'c.kind', 'c.author_id as authorId', 'c.commit_time as time', 'cf.added', 'cf.deleted', 'c.lines_added as changeAdded', 'c.lines_deleted as changeDeleted']);
  // Repository and time are filtered here, not in SQL: given them, SQLite's planner walks the
  // changes time index (every change) instead of the path index (this file's history only).
  const keep = (r: { repoId: number; time: number }, since: number): boolean => r.repoId === repoId && r.time <= now && r.time >= since;
  type Row = Awaited<ReturnType<ReturnType<typeof selectHistory>['execute']>>[number];
  const toHistory = (r: Row): HistoryRow & { changeAdded: number; changeDeleted: number } => ({
    path: r.path,
    changeId: r.changeId,
    sha: r.sha,
    kind: r.kind,
    authorId: r.authorId,
    time: r.time,
    added: r.added ?? 0,
    deleted: r.deleted ?? 0,
    changeAdded: r.changeAdded,
    changeDeleted: r.changeDeleted,
  });

  const fileRows = paths.length === 0 ? [] : (await time('query files', () => selectHistory().where('cf.path', 'in', paths).execute())).filter((r) => keep(r, -Infinity)).map(toHistory);
  // Formatting-only changes and ignored revisions teach nothing about who knows the code.
  const excluded = new Set<string>(options.formattingShas ?? []);
  if (options.git !== undefined) {
    const { repoPath, base } = options.git;
    await time('formatting', () => {
      for (const sha of blameIgnoreRevs(repoPath, base)) excluded.add(sha);
      const seen = new Set<string>();
      // Mass formatting touches the change's own files too, so their history is where to look for it.
      const candidates = fileRows
        .filter((r) => {
          const most = Math.max(r.changeAdded, r.changeDeleted);
          return most >= 3 && Math.abs(r.changeAdded - r.changeDeleted) <= 0.1 * most;
        })
        .sort((a, b) => b.time - a.time || a.sha.localeCompare(b.sha));
      for (const row of candidates) {
        if (seen.has(row.sha) || excluded.has(row.sha)) continue;
        seen.add(row.sha);
        if (seen.size > maxFormattingChecks) break;
        if (isFormattingOnly(repoPath, row.sha)) excluded.add(row.sha);
      }
    });
  }

  // Folder evidence, aggregated in SQL (a folder's history can be thousands of rows): decayed
  // count per author of direct and squash changes; merges come row by row for their writers.
  const halfLifeS = config.halfLifeDays * dayS;
  const folderAgg = new Map<string, { authorId: number; weight: number; count: number; last: number }[]>();
  const folderMerges = new Map<string, ReturnType<typeof toHistory>[]>();
  await time('query folders', async () => {
    const skip = [...excluded];
    if (folders.length === 0) return;
    // A folder's size (file rows under it, counted in the path index) picks how it is read. Small
    // ones: from the path index. Big ones (`Kernel/`: 39,000 rows on SerenityOS, hundreds of
    // milliseconds that way): summed in memory over the repository's changes within the horizon,
    // read once per process (changeWindow); when that window is too big to hold, from the
    // repository's changes in the horizon (their files filtered by the folder) if cheaper than the
    // path index. All ways give the same sums.
    const sizes = new Map<string, number>();
    for (const folder of folders) {
      const row = await db
        .selectFrom('change_files')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('path', '>=', `${folder}/`)
        .where('path', '<', `${folder}0`)
        .executeTakeFirst();
      sizes.set(folder, row?.n ?? 0);
    }
    const bigAt = options.bigFolderRows ?? bigFolderRows;
    const big = folders.filter((f) => (sizes.get(f) ?? 0) > bigAt);
    const window = big.length > 0 ? await changeWindow(db, repoId, horizon, now) : null;
    let inHorizon: number | undefined;
    for (const folder of folders) {
      const underFolder = sizes.get(folder) ?? 0;
      if (window !== null && underFolder > bigAt) {
        const byAuthor = new Map<number, { authorId: number; weight: number; count: number; last: number }>();
        const merges: ReturnType<typeof toHistory>[] = [];
        for (const row of window.rowsUnder(folder)) {
          if (row.kind === 'merge' || row.kind === 'octopus') {
            merges.push(row);
            continue;
          }
          if (excluded.has(row.sha)) continue;
          let agg = byAuthor.get(row.authorId);
          if (agg === undefined) {
            agg = { authorId: row.authorId, weight: 0, count: 0, last: row.time };
            byAuthor.set(row.authorId, agg);
          }
          agg.weight += 0.5 ** ((Math.floor(now) - row.time) / halfLifeS);
          agg.count += 1;
          agg.last = Math.max(agg.last, row.time);
        }
        folderAgg.set(folder, [...byAuthor.values()]);
        folderMerges.set(folder, merges);
        continue;
      }
      if (underFolder > bigAt && inHorizon === undefined) {
        const row = await db
          .selectFrom('changes')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('repo_id', '=', repoId)
          .where('commit_time', '>=', horizon)
          .where('commit_time', '<=', now)
          .executeTakeFirst();
        inHorizon = row?.n ?? 0;
      }
      const byTime = inHorizon !== undefined && underFolder > folderPlanRatio * inHorizon;
      // '0' is the character after '/', so the range is every path under the folder. By path, the
      // unary + keeps SQLite on the path index (not the changes time index); by time, `|| ''` keeps
      // it off the path index (both valid SQL on both engines).
      const base = () => {
        const joined = db.selectFrom('change_files as cf').innerJoin('changes as c', 'c.id', 'cf.change_id');
        return byTime
          ? joined
              .where(sql`cf.path || ''`, '>=', `${folder}/`)
              .where(sql`cf.path || ''`, '<', `${folder}0`)
              .where('c.repo_id', '=', repoId)
              .where('c.commit_time', '>=', horizon)
              .where('c.commit_time', '<=', now)
          : joined
              .where('cf.path', '>=', `${folder}/`)
              .where('cf.path', '<', `${folder}0`)
              .where(sql`+c.repo_id`, '=', repoId)
              .where(sql`+c.commit_time`, '>=', horizon)
              .where(sql`+c.commit_time`, '<=', now);
      };
      let query = base()
        .select([
          'c.author_id as authorId',
          sql<number>`sum(power(0.5, (${sql.raw(String(Math.floor(now)))} - c.commit_time) * 1.0 / ${sql.raw(String(halfLifeS))}))`.as('weight'),
          (eb) => eb.fn.countAll<number>().as('count'),
          (eb) => eb.fn.max('c.commit_time').as('last'),
        ])
        .where('c.kind', 'not in', ['merge', 'octopus'])
        .groupBy('c.author_id');
      if (skip.length > 0) query = query.where('c.sha', 'not in', skip);
      const rows = await query.execute();
      folderAgg.set(
        folder,
        rows.map((r) => ({ authorId: r.authorId, weight: r.weight, count: r.count, last: r.last })),
      );
      const merges = await base()
        .select(['cf.path', 'c.repo_id as repoId', 'c.id as changeId', 'c.sha', 'c.kind', 'c.author_id as authorId', 'c.commit_time as time', 'cf.added', 'cf.deleted', 'c.lines_added as changeAdded', 'c.lines_deleted as changeDeleted'])
        .where('c.kind', 'in', ['merge', 'octopus'])
        .execute();
      folderMerges.set(
        folder,
        merges.filter((r) => keep(r, horizon) && r.path.startsWith(`${folder}/`)).map(toHistory),
      );
    }
  });
  const allRows = [...fileRows, ...[...folderMerges.values()].flat()];

  // Merges credit the authors of the commits they brought in; the merger (when not one of them) reviewed.
  const mergeIds = [...new Set(allRows.filter((r) => r.kind === 'merge' || r.kind === 'octopus').map((r) => r.changeId))];
  const writersOf = new Map<number, number[]>();
  if (mergeIds.length > 0) {
    const rows = await time('query merges', () =>
      db.selectFrom('change_commits').select(['change_id as changeId', 'author_id as authorId']).where('change_id', 'in', mergeIds).execute(),
    );
    for (const row of rows) {
      const list = writersOf.get(row.changeId) ?? [];
      if (!list.includes(row.authorId)) list.push(row.authorId);
      writersOf.set(row.changeId, list);
    }
  }

  // Identities: everyone in the history, plus people named by config, CODEOWNERS or the load file.
  const people = new Map<string, Person>();
  const byId = new Map<number, Person>();
  const ids = new Set<number>();
  for (const row of allRows) ids.add(row.authorId);
  for (const list of folderAgg.values()) for (const row of list) ids.add(row.authorId);
  for (const list of writersOf.values()) for (const id of list) ids.add(id);
  // Reviews first: their reviewers (often bare logins) are resolved to stored identities below.
  const history = options.reviewHistory;
  const reviewRecords = history === undefined ? [] : (await time('reviews', () => history.reviewsTouching(paths, folders, horizon))).filter((r) => r.time <= now);
  const recentCutoff = now - config.inactiveAfterDays * dayS;
  let recent: { authorId: number; last: number }[] = [];
  await time('query identities', async () => {
    // Recently active people are candidates even without history in these files (a light review, a new file).
    recent = await db
      .selectFrom('changes')
      .select(['author_id as authorId', (eb) => eb.fn.max('commit_time').as('last')])
      .where('repo_id', '=', repoId)
      .where('commit_time', '>=', recentCutoff)
      .where('commit_time', '<=', now)
      .groupBy('author_id')
      .execute();
    for (const row of recent) ids.add(row.authorId);
    const specs = [...(options.extraSpecs ?? []), ...new Set(reviewRecords.map((r) => r.reviewer))];
    const emails = specs.filter((s) => !s.startsWith('@')).map((s) => (/<([^>]+)>/.exec(s)?.[1] ?? s).toLowerCase()).filter((s) => s.includes('@'));
    const logins = specs.filter((s) => s.startsWith('@') && !s.includes('/')).map((s) => s.slice(1).toLowerCase());
    const idList = [...ids];
    const rows = await db
      .selectFrom('identities')
      .selectAll()
      .where((eb) => {
        const ors = [];
        if (idList.length > 0) ors.push(eb('id', 'in', idList));
        if (emails.length > 0) ors.push(eb(eb.fn('lower', ['email']), 'in', emails));
        if (logins.length > 0) ors.push(eb(eb.fn('lower', ['github_login']), 'in', logins));
        return ors.length === 0 ? eb.val(false) : eb.or(ors);
      })
      .execute();
    for (const row of rows) {
      const person: Person = { key: row.key, id: row.id, name: row.name, email: row.email, login: row.github_login, kind: row.kind };
      people.set(person.key, person);
      byId.set(person.id ?? 0, person);
    }
  });
  const keyOfId = (id: number): string => byId.get(id)?.key ?? `identity #${id}`;
  const found = new Map<string, Person>();
  const findPerson = (spec: string): Person => {
    const cached = found.get(spec);
    if (cached !== undefined) return cached;
    let match: Person | undefined;
    for (const person of people.values()) {
      if (personMatches(person, spec)) {
        match = person;
        break;
      }
    }
    if (match === undefined) {
      match = personFromSpec(spec);
      people.set(match.key, match);
    }
    found.set(spec, match);
    return match;
  };

  const lastActive = new Map<string, number>();
  const touch = (key: string, at: number): void => {
    if (at > (lastActive.get(key) ?? -Infinity)) lastActive.set(key, at);
  };
  // Last activity: a change in the inactivity window (any file), else the newest seen in this history or in reviews.
  for (const row of recent) touch(keyOfId(row.authorId), row.last);
  for (const row of allRows) touch(keyOfId(row.authorId), row.time);
  for (const list of folderAgg.values()) for (const row of list) touch(keyOfId(row.authorId), row.last);

  const addChange = (target: PathEvidence, row: HistoryRow): void => {
    if (excluded.has(row.sha)) return;
    const weight = decay(now - row.time, config.halfLifeDays);
    const writers = writersOf.get(row.changeId);
    if (writers === undefined || writers.length === 0) {
      const e = evidenceOf(target, keyOfId(row.authorId));
      e.changes += weight;
      e.rawChanges += 1;
      return;
    }
    for (const id of writers) {
      const e = evidenceOf(target, keyOfId(id));
      e.changes += weight / writers.length;
      e.rawChanges += 1;
      touch(keyOfId(id), row.time);
    }
    if (!writers.includes(row.authorId)) {
      const e = evidenceOf(target, keyOfId(row.authorId));
      e.reviews += weight;
      e.rawReviews += 1;
    }
  };

  const files: PathEvidence[] = paths.map((path) => ({ path, byPerson: new Map(), blamed: false }));
  const fileByPath = new Map(files.map((f) => [f.path, f]));
  for (const row of fileRows) {
    const target = fileByPath.get(row.path);
    if (target !== undefined) addChange(target, row);
  }
  const folderEvidence = new Map<string, PathEvidence>();
  for (const folder of folders) {
    const target: PathEvidence = { path: folder, byPerson: new Map(), blamed: false };
    for (const row of folderAgg.get(folder) ?? []) {
      const e = evidenceOf(target, keyOfId(row.authorId));
      e.changes += row.weight;
      e.rawChanges += row.count;
    }
    for (const row of folderMerges.get(folder) ?? []) addChange(target, row);
    folderEvidence.set(folder, target);
  }

  {
    for (const record of reviewRecords) {
      const person = findPerson(record.reviewer);
      touch(person.key, record.time);
      const weight = decay(now - record.time, config.halfLifeDays);
      const credit = (target: PathEvidence | undefined): void => {
        if (target === undefined) return;
        const e = evidenceOf(target, person.key);
        e.reviews += weight;
        e.rawReviews += 1;
      };
      for (const path of new Set(record.paths)) credit(fileByPath.get(path));
      const touched = new Set(record.paths.map(folderOf));
      for (const folder of touched) credit(folderEvidence.get(folder));
    }
  }

  if (options.git !== undefined) {
    const { repoPath, base } = options.git;
    await time('blame', async () => {
      const groupsByFile = new Map<PathEvidence, NonNullable<ReturnType<typeof blameFile>>>();
      for (const file of files.slice(0, maxBlamedFiles)) {
        const groups = blameFile(repoPath, base, file.path, [...excluded]);
        if (groups !== null && groups.length > 0) groupsByFile.set(file, groups);
      }
      const shas = [...new Set([...groupsByFile.values()].flat().map((g) => g.sha))];
      const authorOfSha = new Map<string, number>();
      for (let i = 0; i < shas.length; i += 500) {
        const chunk = shas.slice(i, i + 500);
        const direct = await db.selectFrom('changes').select(['sha', 'author_id as authorId', 'kind']).where('repo_id', '=', repoId).where('sha', 'in', chunk).execute();
        for (const row of direct) if (row.kind !== 'merge' && row.kind !== 'octopus') authorOfSha.set(row.sha, row.authorId);
        const brought = await db
          .selectFrom('change_commits as cc')
          .innerJoin('changes as c', 'c.id', 'cc.change_id')
          .select(['cc.sha', 'cc.author_id as authorId'])
          .where('c.repo_id', '=', repoId)
          .where('cc.sha', 'in', chunk)
          .execute();
        for (const row of brought) authorOfSha.set(row.sha, row.authorId);
      }
      const missing = [...new Set([...authorOfSha.values()].filter((id) => !byId.has(id)))];
      if (missing.length > 0) {
        const rows = await db.selectFrom('identities').selectAll().where('id', 'in', missing).execute();
        for (const row of rows) {
          const person: Person = { key: row.key, id: row.id, name: row.name, email: row.email, login: row.github_login, kind: row.kind };
          people.set(person.key, person);
          byId.set(row.id, person);
        }
      }
      for (const [file, groups] of groupsByFile) {
        file.blamed = true;
        for (const group of groups) {
          const id = authorOfSha.get(group.sha);
          const key = id !== undefined ? keyOfId(id) : findPerson(`${group.authorName} <${group.authorEmail}>`).key;
          const e = evidenceOf(file, key);
          e.lines += group.lines * decay(now - group.authorTime, config.halfLifeDays);
          e.rawLines += group.lines;
        }
      }
    });
  }

  for (const key of new Set([...files, ...folderEvidence.values()].flatMap((t) => [...t.byPerson.keys()]))) {
    if (!people.has(key)) people.set(key, personFromSpec(key));
  }
  for (const person of people.values()) if (looksLikeBot(person.key) && person.kind === 'person') person.kind = 'bot';
  return { files, folders: folderEvidence, people, lastActive, excludedShas: [...excluded].sort(), timings };
}
