import { createHash } from 'node:crypto';
import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../../store/schema.ts';
import { folderKey, folderKeyOf } from '../../store/migrations/0008-feature-read-paths.ts';
import { computeFeatures, directoryOf, featuresVersion, subsystemOf, yearOf, type AuthorHistory, type ChangeFeatures, type DirHistory, type FeatureChange, type FeatureFile } from '../features/compute.ts';

/*
 * The features of a proposed change (a pull request at the gate) as if it landed after the stored
 * mainline, WITHOUT the pass over the whole history: the same computeFeatures runs over only the
 * stored changes its features depend on. They are:
 *
 * - the lineage of its files: every stored change with a file whose state flows into one of the
 *   proposed change's files (followed back through renames), or that moved or deleted such a file,
 *   with those rows; these are replayed;
 * - the changes with a file directly in one of its folders (dir_changes, dir_fixes, dir_bugs): only
 *   their number, fixes and known defects per folder matter, so these are summed per folder and
 *   given to the pass as totals (none of them is replayed for it);
 * - its author's changes, with the top-level folders they touched among the proposed change's (EXP,
 *   REXP, SEXP, the author's escapes), likewise counted into the author's seed;
 * - fixes among those, and the defect labels of those changes that the full pass would apply.
 *
 * Migration 0008 indexes each of these reads (a file's rows by path, changes by folder, renames, the
 * change columns the pass reads). What does not depend on the proposed change (every change's
 * position, time and author, the renames, every folder's totals) is also kept in the store by
 * `flowgate analyze` (replay_index, migration 0009), so a new process need not scan it. A check
 * can start the reads that depend only on the change's paths while git still counts its lines
 * (prepareProposedFeatures with files).
 *
 * A label reaches the pass at the first change whose time is at or past its fix's time, and
 * applies once its inducing change is in; a fix is a stored change, so by the proposed change (the
 * last) every label of the repository applies. featuresForChangeByFullPass is the reference;
 * proposed.test.ts compares the two.
 */

type Db = Kysely<Database>;

/** A change not on the mainline yet (a pull request at the gate), as the feature pass reads it. */
export type ProposedChange = Omit<FeatureChange, 'position' | 'knownBy' | 'subsystems'> & { isFix?: boolean; isRevert?: boolean };

/** Paths bound in one query beside a chunk of ids, within both engines' limits on bound values. */
const maxBoundPaths = 4_000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A stored file row as the queries here read it. */
type FileRow = FeatureFile & { change_id: number };

/** One stored rename (or copy): a file whose state moved from `oldPath` to `path`. */
type StoredRename = FileRow & { oldPath: string };

/** What the feature pass reads of a stored change row. */
interface ChangeMeta {
  id: number;
  position: number;
  commit_time: number;
  author_id: number;
}

/** What the fast path needs of the whole history; read once per stored mainline tip and kept. */
interface RepoIndex {
  key: string;
  tipPosition: number;
  /** The latest commit time of the stored mainline. */
  maxTime: number;
  /** Renames by the path they moved to, and by the path they moved from. */
  renamesTo: Map<string, StoredRename[]>;
  renamesFrom: Map<string, StoredRename[]>;
  /** Every change row of the repository by id (the columns the pass reads; a covering index, migration 0008). */
  changes: Map<number, ChangeMeta>;
  /** Every folder's totals from the stored replay index, valid while the fixes and labels have the same print. */
  folders: StoredFolders | null;
}

/** Folder totals (changes, fixes, known defects) by folder key, and the print of the fixes and labels counted. */
interface StoredFolders {
  print: string;
  totals: Record<string, [number, number, number]>;
}

/** Per connection, per repository: the latest RepoIndex (the gate service asks many times). */
const indexes = new WeakMap<object, Map<number, RepoIndex>>();

// Read in the pass's own shape, so the rows are its files as they are (no copy of tens of thousands).
const fileColumns = ['change_id', 'path', 'old_path as oldPath', 'status', 'added', 'deleted'] as const;

/** What a RepoIndex is built from: the changes in position order, and the repository's renames. */
interface IndexRows {
  changes: ChangeMeta[];
  renames: StoredRename[];
}

/** The stored mainline's key (tip and latest commit time; see ReplayIndexTable.key), or null when nothing is stored. */
async function mainlineOf(db: Db, repoId: number): Promise<{ key: string; tipPosition: number; maxTime: number } | null> {
  const tip = await db.selectFrom('changes').select(['position', 'sha']).where('repo_id', '=', repoId).orderBy('position', 'desc').limit(1).executeTakeFirst();
  if (tip === undefined) return null;
  const newest = await db.selectFrom('changes').select('commit_time').where('repo_id', '=', repoId).orderBy('commit_time', 'desc').limit(1).executeTakeFirstOrThrow();
  return { key: `${tip.position}:${tip.sha}:${newest.commit_time}`, tipPosition: tip.position, maxTime: newest.commit_time };
}

/** Reads the index rows from the tables: every change from a covering index, the renames from a partial one (migration 0008). */
async function scanIndexRows(db: Db, repoId: number): Promise<IndexRows> {
  const changes = await db.selectFrom('changes').select(['id', 'position', 'commit_time', 'author_id']).where('repo_id', '=', repoId).orderBy('position').execute();
  const ids = new Set(changes.map((c) => c.id));
  // Every repository's renames (the partial index alone; a join to changes makes SQLite walk every
  // change instead), kept to this repository's here.
  const renames: StoredRename[] = [];
  for (const r of await db.selectFrom('change_files').select(fileColumns).where('old_path', 'is not', null).execute()) {
    if (r.oldPath !== null && ids.has(r.change_id)) renames.push({ ...r, oldPath: r.oldPath });
  }
  return { changes, renames };
}

/** ReplayIndexTable.changes' layout over `buffer`: commit times (float64), then ids, positions and authors (int32), n of each. */
function changeColumns(buffer: ArrayBuffer, n: number): { times: Float64Array; ids: Int32Array; positions: Int32Array; authors: Int32Array } {
  return { times: new Float64Array(buffer, 0, n), ids: new Int32Array(buffer, 8 * n, n), positions: new Int32Array(buffer, 12 * n, n), authors: new Int32Array(buffer, 16 * n, n) };
}

/** The changes as ReplayIndexTable.changes holds them (changeColumns), base64. */
function encodeChanges(changes: readonly ChangeMeta[]): string {
  const buffer = new ArrayBuffer(20 * changes.length);
  const { times, ids, positions, authors } = changeColumns(buffer, changes.length);
  changes.forEach((c, i) => {
    times[i] = c.commit_time;
    ids[i] = c.id;
    positions[i] = c.position;
    authors[i] = c.author_id;
  });
  return Buffer.from(buffer).toString('base64');
}

/** The stored index's rows, or null when they do not describe the mainline's tip (damaged, or of another build). */
function decodeIndexRows(stored: { changes: string; renames: string }, tipPosition: number): IndexRows | null {
  try {
    const bytes = Buffer.from(stored.changes, 'base64');
    if (bytes.length === 0 || bytes.length % 20 !== 0) return null;
    const n = bytes.length / 20;
    // Typed arrays need aligned offsets: copy into a fresh buffer.
    const buffer = new ArrayBuffer(bytes.length);
    new Uint8Array(buffer).set(bytes);
    const { times, ids, positions, authors } = changeColumns(buffer, n);
    if (positions[n - 1] !== tipPosition) return null;
    const changes: ChangeMeta[] = [];
    for (let i = 0; i < n; i++) changes.push({ id: ids[i] ?? 0, position: positions[i] ?? 0, commit_time: times[i] ?? 0, author_id: authors[i] ?? 0 });
    const renames = (JSON.parse(stored.renames) as [number, string, string, FeatureFile['status'], number | null, number | null][]).map(
      ([changeId, path, oldPath, status, added, deleted]): StoredRename => ({ change_id: changeId, path, oldPath, status, added, deleted }),
    );
    return { changes, renames };
  } catch {
    return null;
  }
}

/**
 * Writes the repository's replay index into the store (`flowgate analyze` does, after mining), so
 * a check in a new process reads one row instead of scanning every change. Replaces the last one.
 */
export async function writeReplayIndex(db: Db, repoId: number): Promise<{ changes: number; renames: number; folders: number }> {
  const mainline = await mainlineOf(db, repoId);
  if (mainline === null) {
    await db.deleteFrom('replay_index').where('repo_id', '=', repoId).execute();
    return { changes: 0, renames: 0, folders: 0 };
  }
  const rows = await scanIndexRows(db, repoId);
  const index = buildIndex(mainline, rows, null);
  const knowledge = await readKnowledge(db, repoId);
  // Every folder of every change (the whole folder index, in its order), counted for this repository.
  const inFolders = await db.selectFrom('change_files').select(['change_id', folderKeyOf().as('folder')]).distinct().where(folderKeyOf(), '>=', '').execute();
  const totals = folderTotals(inFolders, index, knowledge);
  const folders: StoredFolders = { print: knowledgePrint(knowledge), totals: Object.fromEntries([...totals].map(([key, d]) => [key, [d.changes, d.fixes, d.bugs]])) };
  const row = {
    key: mainline.key,
    changes: encodeChanges(rows.changes),
    renames: JSON.stringify(rows.renames.map((r) => [r.change_id, r.path, r.oldPath, r.status, r.added, r.deleted])),
    folders: JSON.stringify(folders),
  };
  await db
    .insertInto('replay_index')
    .values({ repo_id: repoId, ...row })
    .onConflict((c) => c.column('repo_id').doUpdateSet(row))
    .execute();
  return { changes: rows.changes.length, renames: rows.renames.length, folders: totals.size };
}

/** The index of a mainline from its rows. */
function buildIndex(mainline: { key: string; tipPosition: number; maxTime: number }, rows: IndexRows, folders: StoredFolders | null): RepoIndex {
  const renamesTo = new Map<string, StoredRename[]>();
  const renamesFrom = new Map<string, StoredRename[]>();
  for (const rename of rows.renames) {
    renamesTo.set(rename.path, [...(renamesTo.get(rename.path) ?? []), rename]);
    renamesFrom.set(rename.oldPath, [...(renamesFrom.get(rename.oldPath) ?? []), rename]);
  }
  // Every change (a wide proposed change needs a large share of them).
  const changes = new Map<number, ChangeMeta>();
  for (const r of rows.changes) changes.set(r.id, r);
  return { key: mainline.key, tipPosition: mainline.tipPosition, maxTime: mainline.maxTime, renamesTo, renamesFrom, changes, folders };
}

/** Stored folder totals, or null when damaged (the folder index is read instead). */
function decodeFolders(json: string): StoredFolders | null {
  try {
    const value = JSON.parse(json) as Partial<StoredFolders> | null;
    return typeof value?.print === 'string' && typeof value.totals === 'object' ? (value as StoredFolders) : null;
  } catch {
    return null;
  }
}

/** The fixes and the earliest label of each labelled change: what the pass knows of the repository's defects. */
interface Knowledge {
  fixIds: Set<number>;
  earliest: Map<number, number>;
}

/** Reads the repository's fixes and labels (whole-repository lists: a few thousand rows by an index). */
async function readKnowledge(db: Db, repoId: number): Promise<Knowledge> {
  const fixIds = new Set<number>();
  for (const r of await db.selectFrom('fixes').select('change_id').where('repo_id', '=', repoId).execute()) fixIds.add(r.change_id);
  const earliest = new Map<number, number>();
  for (const r of await db.selectFrom('defect_labels').select(['inducing_change_id', 'known_at']).where('repo_id', '=', repoId).execute()) {
    earliest.set(r.inducing_change_id, Math.min(r.known_at, earliest.get(r.inducing_change_id) ?? Infinity));
  }
  return { fixIds, earliest };
}

/** A digest of the fixes and labels and of the features' rules: stored folder totals are used only while it is the same. */
function knowledgePrint(knowledge: Knowledge): string {
  const fixes = [...knowledge.fixIds].sort((a, b) => a - b);
  const labels = [...knowledge.earliest].sort((a, b) => a[0] - b[0]);
  return createHash('sha256').update(JSON.stringify([featuresVersion, fixes, labels])).digest('hex');
}

/**
 * Per folder key: this repository's changes with a file directly in it, the fixes and the known
 * defects among them. Every labelled change counts as known: by a proposed change (the pass's
 * last) every label applies, its fix being a stored change.
 */
function folderTotals(rows: Iterable<{ change_id: number; folder: string }>, index: RepoIndex, { fixIds, earliest }: Knowledge): Map<string, DirHistory> {
  const totals = new Map<string, DirHistory>();
  for (const { change_id: id, folder } of rows) {
    // Another repository's change has no row in the index.
    if (!index.changes.has(id)) continue;
    const d = totals.get(folder) ?? { changes: 0, fixes: 0, bugs: 0 };
    totals.set(folder, d);
    d.changes += 1;
    if (fixIds.has(id)) d.fixes += 1;
    if (earliest.has(id)) d.bugs += 1;
  }
  return totals;
}

async function repoIndex(db: Db, repoId: number): Promise<RepoIndex | null> {
  const mainline = await mainlineOf(db, repoId);
  if (mainline === null) return null;
  const { key, tipPosition } = mainline;
  const cached = indexes.get(db)?.get(repoId);
  if (cached?.key === key) return cached;

  // The stored index when it describes this mainline, else the tables themselves.
  const stored = await db.selectFrom('replay_index').select(['key', 'changes', 'renames', 'folders']).where('repo_id', '=', repoId).executeTakeFirst();
  const decoded = stored?.key === key ? decodeIndexRows(stored, tipPosition) : null;
  const index = buildIndex(mainline, decoded ?? (await scanIndexRows(db, repoId)), decoded === null || stored === undefined ? null : decodeFolders(stored.folders));
  const perRepo = indexes.get(db) ?? new Map<number, RepoIndex>();
  perRepo.set(repoId, index);
  indexes.set(db, perRepo);
  return index;
}

/** Where a proposed change's files are and were (its lineage and folders come from these alone). */
export type ProposedPaths = readonly Pick<FeatureFile, 'path' | 'oldPath'>[];

/** The stored history that a proposed change's paths select (readHistoryOf), whatever its line counts or author. */
interface HistoryReads {
  /** The RepoIndex key and the paths they were read for. */
  key: string;
  /** Every stored row of a lineage path, and the renames away from one, by change. */
  byChange: Map<number, FileRow[]>;
  /** The proposed change's folders' totals, by folder (directoryOf). */
  dirTotals: Map<string, DirHistory>;
  /** The repository's fixes and labels (every label applies by the proposed change: folderTotals). */
  knowledge: Knowledge;
}

/**
 * Per connection, per repository: a history read started ahead (a check starts it while git counts
 * lines). The next feature computation for the same paths takes it, once: fixes and labels can
 * change while the mainline stays, so a read is never reused later.
 */
const readsAhead = new WeakMap<object, Map<number, Promise<HistoryReads>>>();

/** The key of a paths' history read: the index it used and what the paths select (lineage heads and folders). */
function readsKey(index: RepoIndex, paths: ProposedPaths): string {
  const heads = [...new Set(paths.map((f) => f.oldPath ?? f.path))].sort();
  const dirs = [...new Set(paths.map((f) => directoryOf(f.path)))].sort();
  return JSON.stringify([index.key, heads, dirs]);
}

/** The history read started ahead for these paths (taken: it is gone from the cache), else a new read. */
async function takeHistoryReads(db: Db, index: RepoIndex, repoId: number, paths: ProposedPaths): Promise<HistoryReads> {
  const key = readsKey(index, paths);
  const ahead = readsAhead.get(db)?.get(repoId);
  if (ahead !== undefined) {
    readsAhead.get(db)?.delete(repoId);
    // One that failed or was for other paths is read again here (and fails here, with its error).
    const taken = await ahead.then((r) => (r.key === key ? r : null), () => null);
    if (taken !== null) return taken;
  }
  return readHistoryOf(db, index, repoId, paths, key);
}

/**
 * Reads what a proposed change's features need of the stored history (kept per connection): with
 * its paths (`files`, known before its line counts), also the history they select, so a check can
 * read it while git counts the lines.
 */
export async function prepareProposedFeatures(db: Db, repoId: number, files?: ProposedPaths): Promise<void> {
  const index = await repoIndex(db, repoId);
  if (index === null || files === undefined) return;
  const read = readHistoryOf(db, index, repoId, files, readsKey(index, files));
  const perRepo = readsAhead.get(db) ?? new Map<number, Promise<HistoryReads>>();
  readsAhead.set(db, perRepo);
  perRepo.set(repoId, read);
  await read;
}

/** `text` with LIKE's wildcards and the escape character escaped (the pattern says `escape '\'`). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The condition "the file is directly in folder `dir`" on `change_files.path`, using the path index
 * where the engine can: a byte-order range on SQLite (its default collation is binary); LIKE on
 * PostgreSQL, whose collation need not be byte order.
 */
function inFolder(postgres: boolean, dir: string): RawBuilder<boolean> {
  const path = sql.ref('change_files.path');
  if (dir === '') return sql<boolean>`${path} not like '%/%'`;
  return sql<boolean>`${under(postgres, dir)} and ${path} not like ${`${escapeLike(dir)}/%/%`} escape '\\'`;
}

/** The condition "the file is in top-level folder `subsystem`" (`''`: at the root), as subsystemOf sees it. */
function inSubsystem(postgres: boolean, subsystem: string): RawBuilder<boolean> {
  return subsystem === '' ? inFolder(postgres, '') : under(postgres, subsystem);
}

function under(postgres: boolean, dir: string): RawBuilder<boolean> {
  const path = sql.ref('change_files.path');
  return postgres ? sql<boolean>`${path} like ${`${escapeLike(dir)}/%`} escape '\\'` : sql<boolean>`${path} >= ${`${dir}/`} and ${path} < ${`${dir}0`}`;
}

interface SubsetChange {
  id: number;
  position: number;
  time: number;
  authorId: number;
  files: FeatureFile[];
}

/**
 * Reads the stored history a proposed change's paths select: (1) the lineage of its files, (2)
 * the changes in its folders, and the repository's fixes and labels (whole-repository lists: a few
 * thousand rows by an index, cheaper than the subset's ids in chunks).
 */
async function readHistoryOf(db: Db, index: RepoIndex, repoId: number, paths: ProposedPaths, key: string): Promise<HistoryReads> {
  // 1. The lineage: the paths whose state flows into the proposed change's files, through renames.
  const lineage = new Set(paths.map((f) => f.oldPath ?? f.path));
  const work = [...lineage];
  for (let path = work.pop(); path !== undefined; path = work.pop()) {
    for (const r of index.renamesTo.get(path) ?? []) {
      if (lineage.has(r.oldPath)) continue;
      lineage.add(r.oldPath);
      work.push(r.oldPath);
    }
  }
  // Their rows that touch the lineage: by path (the path index), and the renames away from a
  // lineage path from the index. Kept to this repository by the change rows later.
  const byChange = new Map<number, FileRow[]>();
  const take = (r: FileRow): void => {
    const rows = byChange.get(r.change_id);
    if (rows === undefined) byChange.set(r.change_id, [r]);
    else rows.push(r);
  };
  for (const part of chunks([...lineage], maxBoundPaths)) {
    for (const r of await db.selectFrom('change_files').select(fileColumns).where('path', 'in', part).execute()) take(r);
  }
  // A rename between two lineage paths was read above already.
  for (const path of lineage) for (const r of index.renamesFrom.get(path) ?? []) if (!lineage.has(r.path)) take(r);

  const knowledge = await readKnowledge(db, repoId);

  // 2. The proposed change's folders (dir_changes, dir_fixes, dir_bugs): it is the pass's last
  // change, so only each folder's totals over the whole history matter; the pass counts no folders.
  // From the stored replay index while the fixes and labels are the ones it counted, else from the
  // folder index (migration 0008).
  const folders = new Map([...new Set(paths.map((f) => directoryOf(f.path)))].map((dir) => [folderKey(dir), dir]));
  const dirTotals = new Map<string, DirHistory>();
  if (index.folders !== null && index.folders.print === knowledgePrint(knowledge)) {
    for (const [key, dir] of folders) {
      const [changes = 0, fixes = 0, bugs = 0] = index.folders.totals[key] ?? [];
      if (changes > 0) dirTotals.set(dir, { changes, fixes, bugs });
    }
  } else {
    for (const part of chunks([...folders.keys()], maxBoundPaths)) {
      const rows = await db.selectFrom('change_files').select(['change_id', folderKeyOf().as('folder')]).distinct().where(folderKeyOf(), 'in', part).execute();
      for (const [key, d] of folderTotals(rows, index, knowledge)) dirTotals.set(folders.get(key) ?? '', d);
    }
  }
  return { key, byChange, dirTotals, knowledge };
}

/**
 * Features of a change that is not stored yet, as if it landed after the stored mainline: the
 * feature pass over only the stored changes they depend on (see the top of this file). Equal to
 * the pass over the whole history.
 */
export async function proposedChangeFeatures(db: Db, repoId: number, change: ProposedChange): Promise<ChangeFeatures> {
  const index = await repoIndex(db, repoId);
  const position = index === null ? 0 : index.tipPosition + 1;
  const proposed: FeatureChange = { ...change, position, knownBy: Math.max(change.time, index?.maxTime ?? change.time) };
  const ownFixes = new Set<number>();
  const ownReverts = new Set<number>();
  if (change.isFix === true || change.isRevert === true) ownFixes.add(position);
  if (change.isRevert === true) ownReverts.add(position);
  if (index === null) return computeFeatures([proposed], { fixes: ownFixes, reverts: ownReverts, labels: [] }).get(position) ?? {};
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  const { byChange, dirTotals, knowledge } = await takeHistoryReads(db, index, repoId, change.files);

  // Rows of another repository's changes find no change row in the index and are left out.
  // Order within a change never matters here: with -M (the miner's) a change lists each path once
  // and a renamed file's old path is gone in it, so no two of its rows share a file's state.
  const subset = new Map<number, SubsetChange>();
  for (const [id, rows] of byChange) {
    const r = index.changes.get(id);
    if (r !== undefined) subset.set(id, { id, position: r.position, time: r.commit_time, authorId: r.author_id, files: rows });
  }

  // 3. The author's other changes are not replayed: their sum is what the pass would add up.
  const authored = [...index.changes.values()].filter((r) => r.author_id === change.authorId);
  const subsystems = [...new Set(change.files.map((f) => subsystemOf(f.path)))];
  const touching = new Map<string, number>();
  if (authored.length > 0 && subsystems.length > 0) {
    // One walk over the author's files: how many of their changes touched each of these folders.
    const row = await db
      .selectFrom('change_files')
      .innerJoin('changes', 'changes.id', 'change_files.change_id')
      .select(subsystems.map((s, i) => sql<number>`count(distinct case when ${inSubsystem(postgres, s)} then change_files.change_id end)`.as(`s${i}`)))
      .where('changes.repo_id', '=', repoId)
      .where('changes.author_id', '=', change.authorId)
      .executeTakeFirst();
    const counts = (row ?? {}) as Record<string, number | string | bigint>;
    subsystems.forEach((s, i) => touching.set(s, Number(counts[`s${i}`] ?? 0)));
  }
  // 4. What was known: fixes among the subset, and the labels the full pass would apply.
  const fixes = new Set(ownFixes);
  for (const id of knowledge.fixIds) {
    const c = subset.get(id);
    if (c !== undefined) fixes.add(c.position);
  }
  // The labels of the changes it replays (each applies once its change is in).
  const labels: { inducing: number; knownAt: number }[] = [];
  for (const [id, knownAt] of knowledge.earliest) {
    const c = subset.get(id);
    if (c !== undefined) labels.push({ inducing: c.position, knownAt });
  }

  // The author's changes outside the subset, summed as the pass would have counted them.
  const seed: AuthorHistory = { changes: 0, byYear: new Map<number, number>(), bySubsystem: new Map(touching), bugs: 0 };
  for (const r of authored) {
    if (subset.has(r.id)) continue;
    seed.changes += 1;
    const y = yearOf(r.commit_time);
    seed.byYear.set(y, (seed.byYear.get(y) ?? 0) + 1);
    if (knowledge.earliest.has(r.id)) seed.bugs += 1;
  }
  for (const c of subset.values()) {
    if (c.authorId !== change.authorId) continue;
    // The pass counts the folders of the files it has of these changes; the seed keeps the rest.
    for (const s of new Set(c.files.map((f) => subsystemOf(f.path)))) if (seed.bySubsystem.has(s)) seed.bySubsystem.set(s, (seed.bySubsystem.get(s) ?? 0) - 1);
  }

  const changes: FeatureChange[] = [...subset.values()].map((c) => ({
    position: c.position,
    time: c.time,
    authorId: c.authorId,
    // Only the proposed change's own features are taken: these fields of the others are never read.
    kind: '',
    provenance: '',
    commits: 1,
    files: c.files,
  }));
  changes.push(proposed);
  return computeFeatures(changes, { fixes, reverts: ownReverts, labels }, (p) => p === position, { authors: new Map([[change.authorId, seed]]), dirTotals }).get(position) ?? {};
}
