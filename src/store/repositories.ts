import type { Kysely } from 'kysely';
import { FlowgateError } from '../core/errors.ts';
import type { Database, RepositoryTable } from './schema.ts';
import type { Selectable } from 'kysely';

export type Repository = Selectable<RepositoryTable>;

/** Finds or creates the repository row for `key` (absolute path or owner/name). */
export async function ensureRepository(db: Kysely<Database>, key: string, path: string | null, branch: string | null): Promise<Repository> {
  const now = Math.floor(Date.now() / 1000);
  await db
    .insertInto('repositories')
    .values({ key, path, branch, tip_sha: null, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const repo = await db.selectFrom('repositories').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
  if (branch !== null && repo.branch !== branch) {
    await db.updateTable('repositories').set({ branch, updated_at: now }).where('id', '=', repo.id).execute();
    return { ...repo, branch };
  }
  return repo;
}

/** The repository stored under `key`, or a NOT_FOUND error that says to run `flowgate analyze` first. */
export async function getRepository(db: Kysely<Database>, key: string): Promise<Repository> {
  const repo = await db.selectFrom('repositories').selectAll().where('key', '=', key).executeTakeFirst();
  if (repo === undefined) {
    throw new FlowgateError('NOT_FOUND', `No repository ${key} in the store. Run \`flowgate analyze ${key}\` first, or check --db.`);
  }
  return repo;
}

/** Every stored repository. */
export async function listRepositories(db: Kysely<Database>): Promise<Repository[]> {
  return db.selectFrom('repositories').selectAll().orderBy('key').execute();
}
