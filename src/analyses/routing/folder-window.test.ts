import { afterEach, describe, expect, it } from 'vitest';
import { truncateChanges } from '../../store/changes.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { rowSeeder } from './__fixtures__/seed-rows.ts';
import { gatherEvidence } from './expertise.ts';
import { changeWindow } from './folder-window.ts';
import { resolveRoutingConfig } from './select.ts';

const T0 = 1_700_000_000;
const day = (d: number): number => T0 + d * 86_400;

describe.each(storeKinds)('the held window of recent changes on %s', (kind) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it('gives each folder’s subtree within the times asked, follows appended history and starts over on a rewrite', async () => {
    store = await openTestStore(kind);
    const db = store.db;
    const s = await rowSeeder(db, 'acme/widgets');
    const other = await rowSeeder(db, 'acme/other');
    for (const name of ['Alice', 'Bob', 'Carol']) await s.person(name);
    await other.person('Zed');
    await s.change({ author: 'Alice', time: day(10), files: ['lib/core/a.ts', 'lib/core/deep/b.ts'] });
    await s.change({ author: 'Alice', time: day(12), files: ['lib/coreutils/c.ts'] });
    await s.change({ author: 'Bob', time: day(11), files: ['lib/core/a.ts'], kind: 'merge' });
    await s.change({ author: 'Bob', time: day(2), files: ['lib/core/old.ts'] });
    await other.change({ author: 'Zed', time: day(11), files: ['lib/core/a.ts'] });
    const tip = async (): Promise<void> => {
      const last = await db.selectFrom('changes').select('sha').where('repo_id', '=', s.repoId).orderBy('position', 'desc').limit(1).executeTakeFirstOrThrow();
      await db.updateTable('repositories').set({ tip_sha: last.sha }).where('id', '=', s.repoId).execute();
    };
    const paths = async (from: number, to: number, folder: string): Promise<string[]> => {
      const window = await changeWindow(db, s.repoId, from, to);
      return (window?.rowsUnder(folder) ?? []).map((r) => `${r.path}@${(r.time - T0) / 86_400}`);
    };
    await tip();

    // The first ask is answered from the path index by the caller: a single decision does not pay for the window.
    expect(await changeWindow(db, s.repoId, day(5), day(20))).toBeNull();
    // The subtree (deep/ included), not the sibling lib/coreutils/ nor the other repository; merges included, in time order.
    expect(await paths(day(5), day(20), 'lib/core')).toEqual(['lib/core/a.ts@10', 'lib/core/deep/b.ts@10', 'lib/core/a.ts@11']);
    // An earlier time reads the part not held yet; a narrower one slices what is held.
    expect(await paths(day(0), day(10), 'lib/core')).toEqual(['lib/core/old.ts@2', 'lib/core/a.ts@10', 'lib/core/deep/b.ts@10']);
    expect(await paths(day(11), day(11), 'lib/core')).toEqual(['lib/core/a.ts@11']);

    // Appended history (an older-dated change too) is added; the other repository's is not.
    const carol = await s.change({ author: 'Carol', time: day(9), files: ['lib/core/deep/e.ts'] });
    await other.change({ author: 'Zed', time: day(13), files: ['lib/core/z.ts'] });
    await tip();
    expect(await paths(day(5), day(20), 'lib/core')).toEqual(['lib/core/deep/e.ts@9', 'lib/core/a.ts@10', 'lib/core/deep/b.ts@10', 'lib/core/a.ts@11']);

    // A rewritten mainline: Carol's change is dropped (the miner's truncation), Bob's lands instead.
    const position = (await db.selectFrom('changes').select('position').where('id', '=', carol).executeTakeFirstOrThrow()).position;
    await db.transaction().execute((tx) => truncateChanges(tx, s.repoId, position - 1, null));
    await s.change({ author: 'Bob', time: day(14), files: ['lib/core/f.ts'] });
    await tip();
    expect(await paths(day(5), day(20), 'lib/core')).toEqual(['lib/core/a.ts@10', 'lib/core/deep/b.ts@10', 'lib/core/a.ts@11', 'lib/core/f.ts@14']);
    expect(await paths(day(5), day(20), 'lib')).toEqual(['lib/core/a.ts@10', 'lib/core/deep/b.ts@10', 'lib/core/a.ts@11', 'lib/coreutils/c.ts@12', 'lib/core/f.ts@14']);
  });

  it('gives the same folder expertise summed in memory as read per folder from the path index', async () => {
    store = await openTestStore(kind);
    const db = store.db;
    const s = await rowSeeder(db, 'acme/widgets');
    for (const name of ['Alice', 'Bob', 'Carol']) await s.person(name);
    for (let i = 0; i < 12; i++) await s.change({ author: ['Alice', 'Bob', 'Carol'][i % 3] ?? 'Alice', time: day(i * 30), files: [`lib/core/f${i % 4}.ts`, `lib/ui/g${i % 2}.ts`] });
    await s.change({ author: 'Bob', time: day(200), files: ['lib/core/f0.ts'], kind: 'merge' });
    // Outside the horizon (four half-lives of 90 days before day 400) and after the decision time: neither counts.
    await s.change({ author: 'Carol', time: day(1), files: ['lib/core/f1.ts'] });
    await s.change({ author: 'Carol', time: day(500), files: ['lib/core/f1.ts'] });
    const config = resolveRoutingConfig({ halfLifeDays: 90 });
    const gather = (bigFolderRows?: number) =>
      gatherEvidence({ store: { db }, repoId: s.repoId, paths: ['lib/core/f1.ts', 'lib/ui/g0.ts'], config, now: day(400), formattingShas: [], ...(bigFolderRows === undefined ? {} : { bigFolderRows }) });
    const view = (e: Awaited<ReturnType<typeof gather>>): string[] =>
      [...e.folders.values()].flatMap((f) => [...f.byPerson.entries()].map(([k, v]) => `${f.path} ${k} ${v.changes.toFixed(12)} ${v.rawChanges} ${v.reviews.toFixed(12)}`)).sort();
    const perFolder = await gather();
    // The first ask of a connection is answered per folder; from the second the window is held.
    expect(view(await gather(0))).toEqual(view(perFolder));
    const inMemory = await gather(0);
    expect(view(inMemory)).toEqual(view(perFolder));
    // Both folders, three people each; in lib/core Carol's changes of day 1 and day 500 do not count.
    expect(view(perFolder)).toHaveLength(6);
    const carol = [...(perFolder.folders.get('lib/core')?.byPerson.entries() ?? [])].find(([k]) => k.startsWith('Carol'))?.[1];
    expect(carol?.rawChanges).toBe(4);
  });
});
