import type { Kysely, Selectable } from 'kysely';
import { FlowgateError } from '../core/errors.ts';
import type { Database } from './schema.ts';

export type Repository = Selectable<Database['repositories']>;

/**
 * The repository a key names: its stored key, a mined clone's path, or the hosted `owner/name` of a
 * mined clone (its origin remote, case-insensitive), in that order of preference.
 */
export async function findRepository(db: Kysely<Database>, key: string): Promise<Repository | undefined> {
  const rows = await db
    .selectFrom('repositories')
    .selectAll()
    .where((eb) => eb.or([eb('key', '=', key), eb('path', '=', key), eb('remote', '=', key.toLowerCase())]))
    .orderBy('id')
    .execute();
  return rows.find((r) => r.key === key) ?? rows.find((r) => r.path === key) ?? rows[0];
}

/**
 * Finds or creates the repository row for `key` (absolute path or owner/name). A clone whose
 * `remote` names a repository the service already created (`owner/name`, no path) adopts that row,
 * so events and decisions that arrived first stay with the mined history.
 */
export async function ensureRepository(db: Kysely<Database>, key: string, path: string | null, branch: string | null, remote: string | null = null): Promise<Repository> {
  const now = Math.floor(Date.now() / 1000);
  const hosted = remote?.toLowerCase() ?? null;
  let repo = (await findRepository(db, key)) ?? (hosted === null ? undefined : await findRepository(db, hosted));
  if (repo !== undefined && repo.path !== null && path !== null && repo.path !== path) repo = undefined; // another clone of the same project keeps its own history
  if (repo === undefined) {
    await db
      .insertInto('repositories')
      .values({ key, path, branch, remote: hosted, tip_sha: null, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return db.selectFrom('repositories').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
  }
  const update = {
    ...(branch !== null && repo.branch !== branch ? { branch } : {}),
    ...(path !== null && repo.path === null ? { path } : {}),
    ...(hosted !== null && repo.remote !== hosted ? { remote: hosted } : {}),
  };
  if (Object.keys(update).length === 0) return repo;
  await db.updateTable('repositories').set({ ...update, updated_at: now }).where('id', '=', repo.id).execute();
  return { ...repo, ...update };
}

/** The repository stored under `key` (see findRepository), or a NOT_FOUND error that says to run `flowgate analyze` first. */
export async function getRepository(db: Kysely<Database>, key: string): Promise<Repository> {
  const repo = await findRepository(db, key);
  if (repo === undefined) {
    throw new FlowgateError('NOT_FOUND', `No repository ${key} in the store. Run \`flowgate analyze ${key}\` first, or check --db.`);
  }
  return repo;
}

/** Every stored repository. */
export async function listRepositories(db: Kysely<Database>): Promise<Repository[]> {
  return db.selectFrom('repositories').selectAll().orderBy('key').execute();
}

/**
 * The hosted `owner/name` of a remote URL (`git@github.com:o/n.git`, `https://host/o/n`,
 * `ssh://git@host/o/n.git`), lower case; null for a local path or anything else.
 */
export function hostedNameOf(url: string): string | null {
  const match = /^(?:[a-z][a-z0-9+.-]*:\/\/[^/]+\/|[^@/:\s]+@[^:/\s]+:)(?:.*\/)?([^/\s]+)\/([^/\s]+?)(?:\.git)?\/?$/i.exec(url.trim());
  if (match === null || url.startsWith('file:')) return null;
  return `${match[1] ?? ''}/${match[2] ?? ''}`.toLowerCase();
}
