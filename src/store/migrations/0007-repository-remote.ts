import type { Kysely } from 'kysely';

/**
 * A mined clone's hosted name (`owner/name`, lower case, from its origin remote), so that the GitHub
 * service, which only knows `owner/name`, finds the history, model and decisions of an analyzed clone.
 */
export interface RepositoryRemoteColumns {
  remote: string | null;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('repositories').addColumn('remote', 'text').execute();
  await db.schema.createIndex('repositories_remote').on('repositories').column('remote').execute();
}
