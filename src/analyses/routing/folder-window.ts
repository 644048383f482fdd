import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { HistoryRow } from './expertise.ts';

/** One file of one stored change: the unit folder expertise is summed over. */
export interface WindowRow extends HistoryRow {
  changeAdded: number;
  changeDeleted: number;
}

interface RepoWindow {
  /** Inclusive bounds (commit time) of what `rows` holds. */
  from: number;
  to: number;
  rows: WindowRow[];
  /** Rows under each folder asked for so far (sorted by time), kept as the window grows. */
  folders: Map<string, WindowRow[]>;
  /** The store's highest change id and the repository's tip when read: either moving means the store was written. */
  maxId: number;
  tip: string | null;
  /** The tip's change id: while it is still stored under it, history was only appended to. */
  tipId: number | null;
}

/**
 * The files of a repository's recent changes, per connection. Folder evidence sums over every
 * change under a folder within the horizon; read per folder from the path index, a folder near the
 * root (`Kernel/`: 39,000 file rows on SerenityOS) costs hundreds of milliseconds per decision.
 * Read once per process by time instead, each decision sums over memory, and a decision at another
 * time reads only the part of the horizon not yet held.
 */
const windows = new WeakMap<object, Map<number, RepoWindow>>();
/** Repositories asked for once per connection: reading the window costs several decisions' worth, so a process pays it from the second ask (a single CLI call never does). */
const askedOnce = new WeakMap<object, Set<number>>();
/** Beyond this many changes a repository's window is not read (memory: a few file rows of ~150 bytes each); callers then query per folder. */
const maxWindowChanges = 200_000;

function byTime(a: WindowRow, b: WindowRow): number {
  return a.time - b.time || a.changeId - b.changeId || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** The index of the first row at or after `time` (or after it, with `after`) in rows sorted by time. */
function firstIndex(rows: readonly WindowRow[], time: number, after: boolean): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const t = rows[mid]?.time ?? 0;
    if (t < time || (after && t === time)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function countChanges(db: Kysely<Database>, repoId: number, from: number, to: number): Promise<number> {
  return (await db.selectFrom('changes').select((eb) => eb.fn.countAll<number>().as('n')).where('repo_id', '=', repoId).where('commit_time', '>=', from).where('commit_time', '<=', to).executeTakeFirst())?.n ?? 0;
}

async function readRows(db: Kysely<Database>, repoId: number, from: number, fromInclusive: boolean, to: number, toInclusive: boolean, ids?: { above: number; upTo: number }): Promise<WindowRow[]> {
  let query = db
    .selectFrom('changes as c')
    .innerJoin('change_files as cf', 'cf.change_id', 'c.id')
    .select(['cf.path', 'c.id as changeId', 'c.sha', 'c.kind', 'c.author_id as authorId', 'c.commit_time as time', 'cf.added', 'cf.deleted', 'c.lines_added as changeAdded', 'c.lines_deleted as changeDeleted'])
    .where('c.repo_id', '=', repoId)
    .where('c.commit_time', fromInclusive ? '>=' : '>', from)
    .where('c.commit_time', toInclusive ? '<=' : '<', to);
  // Changes stored since a window was read: by id (the primary key), not by time.
  if (ids !== undefined) query = query.where('c.id', '>', ids.above).where('c.id', '<=', ids.upTo);
  const rows = await query.execute();
  return rows.map((r) => ({ ...r, added: r.added ?? 0, deleted: r.deleted ?? 0 })).sort(byTime);
}

/** The rows of a window under each folder, within the asked times. */
export interface FolderWindow {
  /** File rows of changes in [from, to] under `folder/`, sorted by time. */
  rowsUnder(folder: string): WindowRow[];
}

const under = (folder: string) => (row: WindowRow) => row.path.startsWith(`${folder}/`);

/**
 * The file rows of the repository's changes with `from <= commit time <= to`, by folder, held per
 * connection and extended as later calls ask for other times; dropped whenever the store was
 * written since (appended changes are added; a rewritten history starts over). Null on the first
 * ask for a repository in this connection, and when the window would be too big to hold: the
 * caller then queries per folder.
 */
export async function changeWindow(db: Kysely<Database>, repoId: number, from: number, to: number): Promise<FolderWindow | null> {
  let perDb = windows.get(db);
  if (perDb === undefined) {
    perDb = new Map();
    windows.set(db, perDb);
  }
  const tipIdOf = async (sha: string | null): Promise<number | null> =>
    sha === null ? null : ((await db.selectFrom('changes').select('id').where('repo_id', '=', repoId).where('sha', '=', sha).executeTakeFirst())?.id ?? null);
  let window = perDb.get(repoId);
  if (window === undefined) {
    let asked = askedOnce.get(db);
    if (asked === undefined) {
      asked = new Set();
      askedOnce.set(db, asked);
    }
    if (!asked.has(repoId)) {
      asked.add(repoId);
      return null;
    }
  }
  const maxId = (await db.selectFrom('changes').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst())?.max ?? 0;
  const tip = (await db.selectFrom('repositories').select('tip_sha').where('id', '=', repoId).executeTakeFirst())?.tip_sha ?? null;
  if (window !== undefined && (window.maxId !== maxId || window.tip !== tip)) {
    // Written since: changes appended (the old tip still stored under its id) are added; a rewritten history starts over.
    if (maxId < window.maxId || (window.tip !== null && (await tipIdOf(window.tip)) !== window.tipId)) window = undefined;
    else {
      const held = window;
      const added = (await readRows(db, repoId, held.from, true, held.to, true, { above: held.maxId, upTo: maxId })).filter((r) => r.time >= held.from && r.time <= held.to);
      if (added.length > 0) {
        held.rows = [...held.rows, ...added].sort(byTime);
        for (const [folder, list] of held.folders) held.folders.set(folder, [...list, ...added.filter(under(folder))].sort(byTime));
      }
      held.maxId = maxId;
      held.tip = tip;
      held.tipId = await tipIdOf(tip);
    }
  }
  if (window === undefined || from < window.from || to > window.to) {
    // Read half the span more on the side that is missing: decisions replayed one after another
    // (or a service's clock moving on) then mostly find their times held.
    const margin = Math.max(0, to - from) / 2;
    const low = window === undefined ? from - margin : Math.min(window.from, from - margin);
    const high = window === undefined ? to + margin : Math.max(window.to, to + margin);
    const missing = window === undefined ? await countChanges(db, repoId, low, high) : (low < window.from ? await countChanges(db, repoId, low, window.from) : 0) + (high > window.to ? await countChanges(db, repoId, window.to, high) : 0);
    if ((window?.rows.length ?? 0) / 4 + missing > maxWindowChanges) {
      perDb.delete(repoId);
      return null;
    }
    if (window === undefined) window = { from: low, to: high, rows: await readRows(db, repoId, low, true, high, true), folders: new Map(), maxId, tip, tipId: await tipIdOf(tip) };
    else {
      if (low < window.from) {
        const earlier = await readRows(db, repoId, low, true, window.from, false);
        window.rows = [...earlier, ...window.rows];
        // Each folder's rows are gathered again when next asked: cheaper than filtering the new rows for every folder held.
        window.folders.clear();
        window.from = low;
      }
      if (high > window.to) {
        const later = await readRows(db, repoId, window.to, false, high, true);
        window.rows = [...window.rows, ...later];
        window.folders.clear();
        window.to = high;
      }
    }
  }
  perDb.set(repoId, window);
  const held = window;
  return {
    rowsUnder(folder) {
      let list = held.folders.get(folder);
      if (list === undefined) {
        list = held.rows.filter(under(folder));
        held.folders.set(folder, list);
      }
      return list.slice(firstIndex(list, from, false), firstIndex(list, to, true));
    },
  };
}
