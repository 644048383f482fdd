import type { Kysely, Transaction } from 'kysely';
import { connect, resolveStoreUrl, type Dialect } from './dialect.ts';
import { migrateToLatest } from './migrate.ts';
import type { Database } from './schema.ts';

/** An open, migrated store. Every module reads and writes through `db`; SQL that differs asks `dialect`. */
export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  url: string;
  close(): Promise<void>;
}

export type Tx = Transaction<Database>;

export interface OpenStoreOptions {
  /** A file path, `sqlite:` URL or `postgres://` URL; defaults to FLOWGATE_DB, then the user's data directory. */
  url?: string | undefined;
  /** PostgreSQL schema to work in (created when missing); tests use one each. */
  schema?: string | undefined;
}

/** Opens the store and runs pending migrations. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const url = resolveStoreUrl(options.url);
  // FLOWGATE_DB_SCHEMA lets a PostgreSQL deployment (or a test's child process) work in its own schema.
  const schema = options.schema ?? (process.env['FLOWGATE_DB_SCHEMA'] || undefined);
  const connection = await connect<Database>(url, schema === undefined ? {} : { schema });
  try {
    await migrateToLatest(connection.db as Kysely<unknown>, connection.dialect, connection.dialect.name === 'postgres' ? schema : undefined);
  } catch (error) {
    await connection.db.destroy();
    throw error;
  }
  return {
    db: connection.db,
    dialect: connection.dialect,
    url: connection.url,
    close: async () => {
      await connection.db.destroy();
      connection.afterClose?.();
    },
  };
}
