import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { FlowgateError } from '../core/errors.ts';
import type { Dialect } from './dialect.ts';
import * as core from './migrations/0001-core.ts';
import * as events from './migrations/0002-events.ts';
import * as learning from './migrations/0003-learning.ts';
import * as gate from './migrations/0004-gate.ts';
import * as service from './migrations/0005-service.ts';
import * as serviceDecisions from './migrations/0006-service-decisions.ts';
import * as repositoryRemote from './migrations/0007-repository-remote.ts';
import * as featureReadPaths from './migrations/0008-feature-read-paths.ts';
import * as replayIndex from './migrations/0009-replay-index.ts';

type MigrationModule = { up: (db: Kysely<unknown>, dialect: Dialect) => Promise<void> };

/** Every migration in order; the names are stored in the database, never rename one that shipped. */
const migrations: [string, MigrationModule][] = [
  ['0001-core', core],
  ['0002-events', events],
  ['0003-learning', learning],
  ['0004-gate', gate],
  ['0005-service', service],
  ['0006-service-decisions', serviceDecisions],
  ['0007-repository-remote', repositoryRemote],
  ['0008-feature-read-paths', featureReadPaths],
  ['0009-replay-index', replayIndex],
];

function provider(dialect: Dialect): MigrationProvider {
  return {
    getMigrations: () => {
      const out: Record<string, Migration> = {};
      for (const [name, module] of migrations) out[name] = { up: (db) => module.up(db, dialect) };
      return Promise.resolve(out);
    },
  };
}

/** Brings the schema up to date; safe to call on every start, concurrently from several processes. */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect, schema?: string): Promise<void> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one is ours.
  const migrator = new Migrator({
    db,
    provider: provider(dialect),
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  let { error, results } = await migrator.migrateToLatest();
  // Kysely's check for its bookkeeping table introspects every table of every schema in the
  // database; another session creating, altering or dropping its own schema meanwhile breaks that
  // catalog scan (seen: 3F000 "schema does not exist", XX000 "cache lookup failed", 42703 "column
  // does not exist" from pg_get_serial_sequence). It fails before any migration ran (no results),
  // so trying again is safe; a lasting error fails the same way a few tries later.
  for (let attempt = 1; attempt < 5 && results === undefined && sqlState(error) !== undefined; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
  throw new FlowgateError('STORE_FAILED', `Migrating the store failed at ${failed}: ${(error as Error).message}`, {
    cause: error,
  });
}

/** The SQLSTATE of an error PostgreSQL reported (five characters; not a Node.js code such as ECONNREFUSED), if any. */
function sqlState(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
