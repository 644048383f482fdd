import { sql, type Kysely, type RawBuilder } from 'kysely';

/*
 * Indexes for the features of a proposed change at the gate (analyses/labels/proposed.ts), which
 * reads a slice of the history per decision instead of replaying it all:
 * - the folder each file is directly in, with its change, so "every change with a file in folder d"
 *   is read from the index alone instead of a range scan of d's whole subtree (a wide change's
 *   folders nest: the scans read the same rows many times);
 * - every row by path with the columns the pass reads, so a file's history is one range of the
 *   index instead of a table lookup per row (it replaces the plain path index);
 * - the renames (old_path set: a few percent of the rows), read once per connection;
 * - the change columns the feature pass reads, so a scan of a repository's changes never touches
 *   the wide rows (messages, provenance evidence).
 */

/**
 * The folder of `change_files.path` with its trailing slash ('' at the root): `rtrim` drops the
 * trailing characters that are not a slash. Both engines index this exact expression; a query
 * uses the index only when it writes the same one, so both sides take it from here.
 */
export function folderKeyOf(path: RawBuilder<unknown> = sql.ref('path')): RawBuilder<string> {
  return sql<string>`rtrim(${path}, replace(${path}, '/', ''))`;
}

/** The lower-case e-mail a change was written with (the gate finds a change's author by it), indexed per repository. */
export function authorEmailKey(): RawBuilder<string> {
  return sql<string>`lower(${sql.ref('author_email')})`;
}

/** The key folderKeyOf gives files directly in `folder` (as features/compute.ts directoryOf names it). */
export function folderKey(folder: string): string {
  return folder === '' ? '' : `${folder}/`;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('change_files_folder').on('change_files').expression(sql`${folderKeyOf()}, ${sql.ref('change_id')}`).execute();
  await db.schema.createIndex('change_files_path_rows').on('change_files').columns(['path', 'change_id', 'old_path', 'status', 'added', 'deleted']).execute();
  await db.schema.dropIndex('change_files_path').execute();
  await db.schema.createIndex('change_files_renames').on('change_files').columns(['old_path', 'change_id', 'path', 'status', 'added', 'deleted']).where(sql.ref('old_path'), 'is not', null).execute();
  await db.schema.createIndex('changes_repo_author_email').on('changes').expression(sql`${sql.ref('repo_id')}, ${authorEmailKey()}`).execute();
  await db.schema.createIndex('changes_repo_replay').on('changes').columns(['repo_id', 'position', 'commit_time', 'author_id']).execute();
}
