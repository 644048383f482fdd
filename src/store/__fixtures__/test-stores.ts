import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore, type Store } from '../store.ts';

/** The engines every store test runs against. */
export const storeKinds = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof storeKinds)[number];

/** The local PostgreSQL the machines run (trust auth); FLOWGATE_TEST_PG overrides. */
export const testPostgresUrl = process.env['FLOWGATE_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore extends Store {
  /** For SQLite, the file; for PostgreSQL, the URL. */
  location: string;
  /** The PostgreSQL schema, when any; pass it to child processes as FLOWGATE_DB_SCHEMA. */
  schema?: string;
  /** Closes and removes the store. */
  dispose(): Promise<void>;
}

/** A fresh, empty, migrated store of the given kind: a temp SQLite file or a new PostgreSQL schema. */
export async function openTestStore(kind: StoreKind): Promise<TestStore> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-store-'));
    const file = join(dir, 'flowgate.db');
    const store = await openStore({ url: file });
    return {
      ...store,
      location: file,
      dispose: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const store = await openStore({ url: testPostgresUrl, schema });
  return {
    ...store,
    location: testPostgresUrl,
    schema,
    dispose: async () => {
      const { sql } = await import('kysely');
      await sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).execute(store.db);
      await store.close();
    },
  };
}
