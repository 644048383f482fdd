import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type ColumnDefinitionBuilder,
  type CreateTableBuilder,
} from 'kysely';
import { FlowgateError } from '../core/errors.ts';

/** Which engine a store runs on; the rest of flowgate only asks this where SQL differs. */
export type DialectName = 'sqlite' | 'postgres';

/** What migrations need to know about the engine to write portable DDL. */
export interface Dialect {
  name: DialectName;
  /** Adds an auto-incrementing integer primary key named `id`. */
  addId<T extends string>(table: CreateTableBuilder<T>): CreateTableBuilder<T, 'id'>;
  /** The column type for Unix-second times and other 64-bit integers. */
  bigint: 'integer' | 'bigint';
  /** The column type for binary blobs. */
  blob: 'blob' | 'bytea';
}

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  addId: (table) => table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement()),
  bigint: 'integer',
  blob: 'blob',
};

export const postgresDialect: Dialect = {
  name: 'postgres',
  addId: (table) => table.addColumn('id', 'serial', (c: ColumnDefinitionBuilder) => c.primaryKey()),
  bigint: 'bigint',
  blob: 'bytea',
};

/** Where the embedded store lives by default: outside any repository so analysing never dirties a work tree. */
export function defaultStorePath(): string {
  const dataHome = process.env['XDG_DATA_HOME'];
  const base = dataHome !== undefined && dataHome !== '' ? dataHome : join(homedir(), '.local', 'share');
  return join(base, 'flowgate', 'flowgate.db');
}

/** Resolves the store URL from the flag, then FLOWGATE_DB, then the default file. */
export function resolveStoreUrl(flag?: string): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = process.env['FLOWGATE_DB'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return defaultStorePath();
}

/** True for `postgres://` and `postgresql://` URLs. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export interface Connection<DB> {
  db: Kysely<DB>;
  dialect: Dialect;
  /** The URL or file path the connection was opened with, for messages. */
  url: string;
  /** Run once the connection is closed. */
  afterClose?: () => void;
}

/** Opens a Kysely connection to SQLite (a file path or `sqlite:` URL) or PostgreSQL. */
export async function connect<DB>(url: string, options: { schema?: string } = {}): Promise<Connection<DB>> {
  if (isPostgresUrl(url)) return connectPostgres<DB>(url, options.schema);
  return connectSqlite<DB>(url);
}

/**
 * Size and modification time of the store file and its WAL: while they stay as they were when
 * `quick_check` last passed, no byte of the store changed through the file system, and the check
 * (a read of the whole file: ~0.2 s at 100 MB, paid by every command) is not repeated.
 * `flowgate audit verify` always runs the full `integrity_check`.
 */
function fileStamp(path: string): string | null {
  try {
    const main = statSync(path);
    let wal = 'none';
    try {
      const w = statSync(`${path}-wal`);
      if (w.size > 0) wal = `${w.size}:${w.mtimeMs}`;
    } catch {
      // No WAL file: nothing written since the last checkpoint.
    }
    return `${main.size}:${main.mtimeMs}:${wal}`;
  } catch {
    return null;
  }
}

function readCheckedStamp(path: string): string | null {
  try {
    return readFileSync(`${path}-checked`, 'utf8');
  } catch {
    return null;
  }
}

function writeCheckedStamp(path: string, stamp: string): void {
  try {
    writeFileSync(`${path}-checked`, stamp);
  } catch {
    // A read-only folder: the check simply runs again next time.
  }
}

async function connectSqlite<DB>(url: string): Promise<Connection<DB>> {
  const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\//, '') : url;
  const { default: Database } = await import('better-sqlite3');
  let sqlite;
  try {
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    // Taken before opening: opening creates an empty WAL file.
    const stamp = path === ':memory:' ? null : fileStamp(path);
    sqlite = new Database(path, { timeout: 10_000 });
    // WAL keeps readers going while the miner writes, and a killed writer never leaves a half-written page.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
    if (stamp === null || readCheckedStamp(path) !== stamp) {
      const check = sqlite.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`integrity check failed: ${String(check)}`);
      if (stamp !== null) writeCheckedStamp(path, stamp);
    }
  } catch (error) {
    sqlite?.close();
    throw new FlowgateError(
      'STORE_UNREACHABLE',
      `Cannot open the store at ${path}: ${(error as Error).message}. Check the path, or pass --db to choose another store.`,
      { cause: error, details: { path } },
    );
  }
  return {
    db: new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) }),
    dialect: sqliteDialect,
    url: path,
    // What this process wrote went through SQLite: the store it found sound stays sound.
    afterClose: () => {
      const after = path === ':memory:' ? null : fileStamp(path);
      if (after !== null) writeCheckedStamp(path, after);
    },
  };
}

async function connectPostgres<DB>(url: string, schema?: string): Promise<Connection<DB>> {
  const pg = await import('pg');
  // int8 (20) and numeric (1700) arrive as strings by default; flowgate's values fit in a double.
  pg.default.types.setTypeParser(pg.default.types.builtins.INT8, (v) => Number(v));
  pg.default.types.setTypeParser(pg.default.types.builtins.NUMERIC, (v) => Number(v));
  const pool = new pg.default.Pool({
    connectionString: url,
    max: 10,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  try {
    const client = await pool.connect();
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    client.release();
  } catch (error) {
    await pool.end();
    throw new FlowgateError(
      'STORE_UNREACHABLE',
      `Cannot connect to PostgreSQL at ${redactUrl(url)}: ${(error as Error).message}. Check that the server runs and the URL is right.`,
      { cause: error },
    );
  }
  return { db: new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }), dialect: postgresDialect, url: redactUrl(url) };
}

/** Hides the password in a database URL. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
