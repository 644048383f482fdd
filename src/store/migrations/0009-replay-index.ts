import type { Kysely } from 'kysely';

/*
 * The repository index of the proposed-change feature pass (analyses/labels/proposed.ts) kept in the
 * store: every change's id, position, commit time and author, the renames and every folder's totals,
 * as of one mainline tip. A check in a new process would otherwise scan every change row first (tens of thousands; a
 * fifth of a wide check's time). It is derived data: written after `flowgate analyze`, and ignored
 * (the rows are scanned as before) when its tip key is not the stored mainline's.
 */

/** One repository's stored replay index. */
export interface ReplayIndexTable {
  repo_id: number;
  /** The mainline it describes: `${tip position}:${tip sha}:${latest commit time}`. */
  key: string;
  /** Base64 of the changes in position order as little-endian arrays: ids, positions, authors (int32), commit times (float64). */
  changes: string;
  /** JSON: the repository's renames as [change id, path, old path, status, added, deleted]. */
  renames: string;
  /**
   * JSON: every folder's totals (changes, fixes, known defects) by folder key (folderKeyOf), with
   * the print of the fixes and labels they were counted with: {"print": ..., "totals": {key: [c, f, b]}}.
   */
  folders: string;
}

/** Table of migration 0009. */
export interface ReplayIndexTables {
  replay_index: ReplayIndexTable;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('replay_index')
    .addColumn('repo_id', 'integer', (c) => c.primaryKey().references('repositories.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('changes', 'text', (c) => c.notNull())
    .addColumn('renames', 'text', (c) => c.notNull())
    .addColumn('folders', 'text', (c) => c.notNull())
    .execute();
}
