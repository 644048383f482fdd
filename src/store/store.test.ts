import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestStore, storeKinds, type TestStore } from './__fixtures__/test-stores.ts';
import { openStore } from './store.ts';

describe.each(storeKinds)('store on %s', (kind) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it('migrates an empty store and round-trips a repository row', async () => {
    store = await openTestStore(kind);
    const now = 1_700_000_000;
    const row = await store.db
      .insertInto('repositories')
      .values({ key: '/tmp/x', path: '/tmp/x', branch: 'main', tip_sha: null, created_at: now, updated_at: now })
      .returning(['id', 'created_at'])
      .executeTakeFirstOrThrow();
    expect(row.created_at).toBe(now);
    expect(typeof row.id).toBe('number');
    await expect(
      store.db.insertInto('repositories').values({ key: '/tmp/x', path: null, branch: null, tip_sha: null, created_at: now, updated_at: now }).execute(),
    ).rejects.toThrow();
  });

  it('runs migrations only once when opened again', async () => {
    store = await openTestStore(kind);
    const again = await openStore({ url: store.location, ...(store.schema === undefined ? {} : { schema: store.schema }) });
    const tables = await again.db.introspection.getTables();
    expect(tables.map((t) => t.name)).toContain('changes');
    await again.close();
  });
});

describe('store errors', () => {
  it('names the path and what to do when the file cannot be opened', async () => {
    await expect(openStore({ url: '/etc/hostname/flowgate.db' })).rejects.toMatchObject({
      code: 'STORE_UNREACHABLE',
      message: expect.stringContaining('--db') as unknown,
    });
  });
  it('names the server when PostgreSQL is unreachable', async () => {
    await expect(openStore({ url: 'postgres://postgres@127.0.0.1:1/none' })).rejects.toMatchObject({ code: 'STORE_UNREACHABLE' });
  });
});

describe('the SQLite store integrity check on open', () => {
  it('is skipped only while the file is as this process left it: bytes changed afterwards fail the next open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-stamp-'));
    try {
      const file = join(dir, 'flowgate.db');
      const store = await openStore({ url: file });
      const now = 1_700_000_000;
      for (let i = 0; i < 400; i++) {
        await store.db.insertInto('repositories').values({ key: `/repo/${i}/${'x'.repeat(200)}`, path: null, branch: null, tip_sha: null, created_at: now, updated_at: now }).execute();
      }
      await store.close();
      // Closing records the file's stamp: the next open trusts it and opens without the full read.
      expect(existsSync(`${file}-checked`)).toBe(true);
      const again = await openStore({ url: file });
      await again.close();

      // Scribble over the middle of the file (the repositories table's pages), as a disk or a hand would.
      const bytes = readFileSync(file);
      const middle = Math.floor(statSync(file).size / 2);
      bytes.fill(0x5a, middle - 2048, middle + 2048);
      writeFileSync(file, bytes);
      await expect(openStore({ url: file })).rejects.toMatchObject({ code: 'STORE_UNREACHABLE', message: expect.stringContaining('integrity check failed') as unknown });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
