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
