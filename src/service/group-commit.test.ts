import { afterEach, describe, expect, it } from 'vitest';
import { openTestStore, storeKinds, type TestStore } from '../store/__fixtures__/test-stores.ts';
import { transactionBatcher, type BatchFinish } from './group-commit.ts';

describe.each(storeKinds)('transactionBatcher (%s)', (kind) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it('runs every prepare before any finish in a shared transaction, and a failing unit fails alone', async () => {
    store = await openTestStore(kind);
    const db = store.db;
    const batcher = transactionBatcher(db);
    const order: string[] = [];
    const unit = (key: string, fail: boolean) =>
      batcher.run({
        prepare: async (tx) => {
          order.push(`prepare ${key}`);
          await tx.insertInto('side_effects').values({ key, kind: 'test', result: '1', created_at: 0 }).execute();
          return key;
        },
        finish: async (tx, prepared) => {
          order.push(`finish ${prepared}`);
          // A duplicate key: this unit's statement fails, which aborts the shared transaction.
          if (fail) await tx.insertInto('side_effects').values({ key: 'a', kind: 'test', result: '1', created_at: 0 }).execute();
          return prepared.toUpperCase();
        },
      });
    // The first unit runs alone; the next three arrive while it runs and share one transaction.
    const first = unit('a', false);
    const rest = [unit('b', false), unit('c', true), unit('d', false)];
    expect(await first).toBe('A');
    const settled = await Promise.allSettled(rest);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // Together first (c's finish fails there), then each alone.
    expect(order.slice(2, 7)).toEqual(['prepare b', 'prepare c', 'prepare d', 'finish b', 'finish c']);
    expect(order.slice(7)).toEqual(['prepare b', 'finish b', 'prepare c', 'finish c', 'prepare d', 'finish d']);
    const keys = await db.selectFrom('side_effects').select('key').orderBy('key').execute();
    // c's own row rolled back with it; b and d committed when they ran again alone.
    expect(keys.map((k) => k.key)).toEqual(['a', 'b', 'd']);
  });
  it('finishes the units that share a batch finisher in one call, in order, beside units that finish alone', async () => {
    store = await openTestStore(kind);
    const db = store.db;
    const batcher = transactionBatcher(db);
    const calls: string[][] = [];
    const together: BatchFinish<string, string> = async (tx, prepared) => {
      calls.push(prepared);
      await tx.insertInto('side_effects').values(prepared.map((key) => ({ key: `${key}-audit`, kind: 'test', result: '1', created_at: 0 }))).execute();
      return prepared.map((p) => `${p}!`);
    };
    const shared = (key: string) =>
      batcher.run({
        prepare: async (tx) => {
          await tx.insertInto('side_effects').values({ key, kind: 'test', result: '1', created_at: 0 }).execute();
          return key;
        },
        finishBatch: together,
      });
    const alone = (key: string) => batcher.run({ prepare: () => Promise.resolve(key), finish: (_tx, prepared) => Promise.resolve(prepared.toUpperCase()) });
    // The first runs alone; the next four arrive while it runs and share the next transaction.
    const first = shared('a');
    const results = await Promise.all([first, shared('b'), alone('x'), shared('c'), shared('d')]);
    expect(results).toEqual(['a!', 'b!', 'X', 'c!', 'd!']);
    expect(calls).toEqual([['a'], ['b', 'c', 'd']]);
    const keys = await db.selectFrom('side_effects').select('key').orderBy('key').execute();
    expect(keys.map((k) => k.key)).toEqual(['a', 'a-audit', 'b', 'b-audit', 'c', 'c-audit', 'd', 'd-audit']);
  });
});
