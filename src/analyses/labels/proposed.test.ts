import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { runAnalysis } from '../run.ts';
import { LabelsConfig } from './config.ts';
import { featuresForChange, featuresForChangeByFullPass, prepareFeaturesForChange, type ProposedChange } from './model.ts';
import { runLabels } from './run.ts';
import { writeReplayIndex } from './proposed.ts';
import { storedAsProposed } from './__fixtures__/stored-as-proposed.ts';

const ada = { name: 'Ada', email: 'ada@example.com' };
const bob = { name: 'Bob', email: 'bob@example.com' };
const cy = { name: 'Cy', email: 'cy@example.com' };

const lines = (prefix: string, n: number): string => Array.from({ length: n }, (_, i) => `export const ${prefix}${i} = ${i};`).join('\n') + '\n';

/**
 * Renames (plain, chained, with edits), a file deleted and brought back, three authors, keyword
 * fixes that SZZ traces, a reverted PR, files at the root and in nested folders, and one commit
 * dated weeks ahead, so a later fix's label reaches the feature pass before its inducing change.
 */
function buildHistory(): { repo: RepoBuilder; shas: Record<string, string> } {
  const repo = new RepoBuilder();
  const shas: Record<string, string> = {};
  repo.write('src/a.ts', lines('a', 8)).write('src/b.ts', lines('b', 4)).write('README.md', '# demo\n').write('lib/x.rb', 'def x\n  1\nend\n');
  shas.core = repo.commit('Add core', { author: ada });
  repo.write('src/a.ts', lines('a', 8).replace('a2 = 2', 'a2 = 22'));
  shas.tweak = repo.commit('Tweak a', { author: bob });
  repo.write('tests/a.test.ts', 'test("a", () => {});\n').write('src/util/c.ts', lines('c', 5));
  repo.commit('Add tests and c', { author: cy });
  repo.move('src/a.ts', 'src/core/a.ts');
  repo.commit('Move a into core', { author: ada });
  repo.write('src/core/a.ts', lines('a', 8).replace('a2 = 2', 'a2 = 3'));
  shas.fixTweak = repo.commit('Fix tweak in a', { author: bob });
  repo.remove('src/b.ts');
  repo.commit('Drop b', { author: cy });
  repo.write('src/b.ts', lines('bb', 3));
  repo.commit('Bring b back', { author: ada });
  repo.write('README.md', '# demo\n\nMore.\n').write('src/b.ts', lines('bb', 4));
  // Dated five weeks ahead: the next changes' commit times are earlier than this one's.
  shas.ahead = repo.commit('Docs and b', { author: bob, time: repo.tick() + 35 * 86_400 });
  repo.write('src/util/c.ts', lines('c', 5).replace('c3 = 3', 'c3 = 33'));
  shas.early = repo.commit('Change c', { author: cy });
  repo.write('src/util/c.ts', lines('c', 5).replace('c3 = 3', 'c3 = 34'));
  shas.fixEarly = repo.commit('Fix c', { author: ada });
  repo.checkout('feature', true);
  repo.write('lib/x.rb', 'def x\n  2\nend\n').write('src/core/a.ts', lines('a', 8).replace('a2 = 2', 'a2 = 3').replace('a5 = 5', 'a5 = 55'));
  repo.commit('Rework x', { author: bob });
  repo.checkout('main');
  shas.pr = repo.merge('feature', 'Merge pull request #7 from bob/feature', { author: bob });
  repo.write('lib/x.rb', 'def x\n  1\nend\n').write('src/core/a.ts', lines('a', 8).replace('a2 = 2', 'a2 = 3'));
  repo.commit(`Revert "Merge pull request #7 from bob/feature"\n\nThis reverts commit ${shas.pr}.`, { author: ada });
  repo.move('src/core/a.ts', 'lib/a.ts');
  repo.write('lib/a.ts', lines('a', 8).replace('a2 = 2', 'a2 = 3').replace('a6 = 6', 'a6 = 66'));
  shas.moveEdit = repo.commit('Move a to lib', { author: cy });
  repo.write('lib/a.ts', lines('a', 8).replace('a2 = 2', 'a2 = 3').replace('a6 = 6', 'a6 = 67'));
  repo.commit('Fix bug in a', { author: bob });
  return { repo, shas };
}

describe.each(storeKinds)('features of a proposed change on %s', (kind) => {
  let store: TestStore | undefined;
  // Each engine gets its own repository: the test grows it.
  let built: ReturnType<typeof buildHistory>;
  beforeAll(() => {
    built = buildHistory();
  });
  afterAll(() => built.repo.dispose());
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  async function analyze(dir: string): Promise<number> {
    const { mined } = await runAnalysis(store!, dir, { mineOnly: true });
    await runLabels(store!, mined.repoId, dir, { config: LabelsConfig.parse({ method: 'stream' }) });
    return mined.repoId;
  }

  /** Every stored change as if it were proposed now (after the whole stored history). */
  async function allStoredAsProposed(repoId: number): Promise<ProposedChange[]> {
    const db = store!.db;
    const fixes = new Map((await db.selectFrom('fixes').select(['change_id', 'kind']).execute()).map((f) => [f.change_id, f.kind]));
    const changes = await db.selectFrom('changes').select('id').where('repo_id', '=', repoId).orderBy('position').execute();
    const out: ProposedChange[] = [];
    for (const c of changes) out.push(await storedAsProposed(db, c.id, fixes.get(c.id)));
    return out;
  }

  async function expectSame(repoId: number, proposals: readonly ProposedChange[]): Promise<void> {
    for (const proposed of proposals) {
      const full = await featuresForChangeByFullPass(store!, repoId, proposed);
      expect({ files: proposed.files.map((f) => f.path), features: await featuresForChange(store!, repoId, proposed) }).toEqual({ files: proposed.files.map((f) => f.path), features: full });
    }
  }

  it('equals the pass over the whole history, for every stored change and new ones, before and after the history grows', async () => {
    store = await openTestStore(kind);
    const repoId = await analyze(built.repo.dir);
    const db = store.db;
    const idOf = async (sha: string): Promise<number> => (await db.selectFrom('changes').select('id').where('sha', '=', sha).executeTakeFirstOrThrow()).id;

    // The history holds what the fast path must get right.
    const renames = await db.selectFrom('change_files').select(['path', 'old_path']).where('status', '=', 'R').orderBy('path').execute();
    expect(renames).toEqual([
      { path: 'lib/a.ts', old_path: 'src/core/a.ts' },
      { path: 'src/core/a.ts', old_path: 'src/a.ts' },
    ]);
    const labels = await db.selectFrom('defect_labels').select(['inducing_change_id', 'fix_change_id', 'known_at', 'method']).execute();
    expect(labels.map((l) => l.method).sort()).toEqual(expect.arrayContaining(['revert', 'szz-stream']));
    const earlyId = await idOf(built.shas.early!);
    const earlyLabel = labels.find((l) => l.inducing_change_id === earlyId);
    const ahead = await db.selectFrom('changes').select('commit_time').where('sha', '=', built.shas.ahead!).executeTakeFirstOrThrow();
    // Its fix's time is before the change dated ahead, which the pass reads first: its label applies once the pass has it.
    expect(earlyLabel?.known_at).toBeLessThan(ahead.commit_time);

    const stored = await allStoredAsProposed(repoId);
    expect(stored.length).toBe(14);
    const authorIds = [...new Set(stored.map((s) => s.authorId))];
    const tip = stored[stored.length - 1]!;
    const fresh: ProposedChange[] = [
      // A file renamed twice before, by a known author, dated before the stored tip, a fix.
      { time: tip.time - 5 * 86_400, authorId: authorIds[0]!, kind: 'squash', provenance: 'human', commits: 2, title: 'Fix a', isFix: true, files: [{ path: 'lib/a.ts', oldPath: null, status: 'M', added: 2, deleted: 1 }] },
      // Renamed away again, with a new file in a folder with history, by an unknown author.
      {
        time: tip.time + 86_400,
        authorId: -1,
        kind: 'merge',
        provenance: 'agent',
        commits: 3,
        files: [
          { path: 'src/a2.ts', oldPath: 'lib/a.ts', status: 'R', added: 1, deleted: 1 },
          { path: 'src/core/new.ts', oldPath: null, status: 'A', added: 10, deleted: 0 },
        ],
      },
      // The root, a re-added file, a test and a folder without history; a revert by another author.
      {
        time: tip.time + 86_400,
        authorId: authorIds[1]!,
        kind: 'direct',
        provenance: 'human',
        commits: 1,
        isRevert: true,
        files: [
          { path: 'README.md', oldPath: null, status: 'M', added: 1, deleted: 0 },
          { path: 'src/b.ts', oldPath: null, status: 'M', added: 3, deleted: 3 },
          { path: 'tests/a.test.ts', oldPath: null, status: 'M', added: 4, deleted: 0 },
          { path: 'docs/new/guide.md', oldPath: null, status: 'A', added: 40, deleted: 0 },
        ],
      },
      // Nothing the author touched before: their record (two known defects) comes from outside the files' history.
      { time: tip.time + 86_400, authorId: authorIds[1]!, kind: 'squash', provenance: 'human', commits: 1, files: [{ path: 'docs/new/guide.md', oldPath: null, status: 'A', added: 5, deleted: 0 }] },
      // The file whose defect's fix is known before the pass reaches the defect (the change dated ahead).
      { time: tip.time + 86_400, authorId: authorIds[2]!, kind: 'squash', provenance: 'human', commits: 1, files: [{ path: 'src/util/c.ts', oldPath: null, status: 'M', added: 1, deleted: 1 }] },
    ];
    await expectSame(repoId, [...stored, ...fresh]);
    const onC = await featuresForChange(store, repoId, fresh[4]!);
    expect(await featuresForChange(store, repoId, fresh[3]!)).toMatchObject({ author_bugs: 2, exp: 5, nuc: 0, dir_changes: 0 });
    // Its label applies once the pass has the inducing change, although its fix was known earlier.
    expect(onC).toMatchObject({ prior_fixes: 1, prior_bugs: 1 });
    const onA = await featuresForChange(store, repoId, fresh[0]!);
    // lib/a.ts was src/a.ts and src/core/a.ts: eight earlier changes, three fixes, three defects
    // labelled on it. Two of them (the reverted PR, the last move) come after the change dated
    // ahead, and their fixes' times are earlier than its: they count all the same.
    expect(onA).toMatchObject({ nuc: 8, prior_fixes: 3, prior_bugs: 3, ndev: 3 });
    // The bare connection serves too.
    expect(await featuresForChange(db, repoId, fresh[1]!)).toEqual(await featuresForChange(store, repoId, fresh[1]!));

    // The history grows (a new tip): nothing kept from before may be stale.
    const grown = built.repo;
    grown.write('lib/a.ts', lines('a', 9).replace('a2 = 2', 'a2 = 3').replace('a6 = 6', 'a6 = 67'));
    grown.commit('Extend a', { author: cy, time: tip.time + 3 * 86_400 });
    grown.write('lib/a.ts', lines('a', 9).replace('a2 = 2', 'a2 = 3').replace('a6 = 6', 'a6 = 68'));
    grown.commit('Fix a again', { author: ada, time: tip.time + 4 * 86_400 });
    expect(await analyze(grown.dir)).toBe(repoId);
    await expectSame(repoId, [...(await allStoredAsProposed(repoId)).slice(-4), ...fresh]);
    const after = await featuresForChange(store, repoId, fresh[0]!);
    expect(after.nuc).toBe(onA.nuc! + 2);
  });

  /** A fresh store with the history analyzed, and a new change to lib/a.ts (a file with a known defect) by the tip's author. */
  async function analyzedWithChangeOnA(): Promise<{ opened: TestStore; repoId: number; stored: ProposedChange[]; tip: ProposedChange; onA: ProposedChange }> {
    const opened = await openTestStore(kind);
    store = opened;
    const repoId = await analyze(built.repo.dir);
    const stored = await allStoredAsProposed(repoId);
    const tip = stored[stored.length - 1]!;
    const onA: ProposedChange = { time: tip.time + 86_400, authorId: tip.authorId, kind: 'squash', provenance: 'human', commits: 1, files: [{ path: 'lib/a.ts', oldPath: null, status: 'M', added: 2, deleted: 1 }] };
    return { opened, repoId, stored, tip, onA };
  }

  it('takes a history read started ahead only for the same paths, and only once', async () => {
    const { opened, repoId, stored, onA } = await analyzedWithChangeOnA();
    const elsewhere = stored[2]!;
    const expected = await featuresForChangeByFullPass(opened, repoId, onA);
    expect(expected.prior_bugs).toBeGreaterThan(0);

    // Read ahead for its paths (no line counts yet), then for another change's: both give the full pass's features.
    await prepareFeaturesForChange(opened, repoId, onA.files.map((f) => ({ path: f.path, oldPath: f.oldPath })));
    expect(await featuresForChange(opened, repoId, onA)).toEqual(expected);
    await prepareFeaturesForChange(opened, repoId, elsewhere.files);
    expect(await featuresForChange(opened, repoId, onA)).toEqual(expected);
    expect(await featuresForChange(opened, repoId, elsewhere)).toEqual(await featuresForChangeByFullPass(opened, repoId, elsewhere));

    // Taken once: labels that change while the mainline stays are read afresh by the next change.
    await prepareFeaturesForChange(opened, repoId, onA.files);
    expect(await featuresForChange(opened, repoId, onA)).toEqual(expected);
    await opened.db.deleteFrom('defect_labels').execute();
    const relabelled = await featuresForChange(opened, repoId, onA);
    expect(relabelled.prior_bugs).toBe(0);
    expect(relabelled).toEqual(await featuresForChangeByFullPass(opened, repoId, onA));
  });

  it('reads its repository index from the stored replay index when that describes the mainline, and ignores a stale or damaged one', async () => {
    const { opened, repoId, stored, tip, onA } = await analyzedWithChangeOnA();
    expect(await writeReplayIndex(opened.db, repoId)).toMatchObject({ changes: stored.length, renames: 2 });
    // Each transaction is a connection of its own to the feature pass: nothing is kept between them.
    const fresh = (): Promise<Record<string, number>> => opened.db.transaction().execute((trx) => featuresForChange(trx, repoId, onA));
    const expected = await featuresForChangeByFullPass(opened, repoId, onA);
    expect(await fresh()).toEqual(expected);
    expect(expected.ndev).toBe(3);

    // The tables change under an index with the same tip: the stored index is what is read.
    const someone = tip.authorId;
    await opened.db.updateTable('changes').set({ author_id: someone }).where('repo_id', '=', repoId).execute();
    expect((await featuresForChangeByFullPass(opened, repoId, onA)).ndev).toBe(1);
    expect((await fresh()).ndev).toBe(3);
    await writeReplayIndex(opened.db, repoId);
    const rewritten = await featuresForChangeByFullPass(opened, repoId, onA);
    expect(await fresh()).toEqual(rewritten);

    // A stored index of another mainline, or a damaged one, is ignored: the tables are read.
    await opened.db.updateTable('changes').set({ author_id: stored.find((c) => c.authorId !== someone)!.authorId }).where('repo_id', '=', repoId).execute();
    const now = await featuresForChangeByFullPass(opened, repoId, onA);
    expect(now).not.toEqual(rewritten);
    const { key } = await opened.db.selectFrom('replay_index').select('key').where('repo_id', '=', repoId).executeTakeFirstOrThrow();
    await opened.db.updateTable('replay_index').set({ key: 'another mainline' }).execute();
    expect(await fresh()).toEqual(now);
    for (const damaged of ['AAAA', 'not base64 at all', '']) {
      await opened.db.updateTable('replay_index').set({ key, changes: damaged }).execute();
      expect(await fresh()).toEqual(now);
    }
    await opened.db.updateTable('replay_index').set({ renames: '{broken' }).execute();
    expect(await fresh()).toEqual(now);

    // Folder totals come from the stored index while the fixes and labels are the ones it counted.
    expect(await writeReplayIndex(opened.db, repoId)).toMatchObject({ folders: 6 });
    expect(await fresh()).toEqual(now);
    await opened.db.deleteFrom('change_files').where('path', '=', 'lib/x.rb').execute();
    const withoutX = await featuresForChangeByFullPass(opened, repoId, onA);
    expect(withoutX.dir_changes).toBeLessThan(now.dir_changes!);
    expect(await fresh()).toEqual({ ...withoutX, dir_changes: now.dir_changes, dir_fixes: now.dir_fixes, dir_bugs: now.dir_bugs });
    // Other fixes: the totals are counted from the folder index again.
    await opened.db.deleteFrom('fixes').where('kind', '=', 'revert').execute();
    expect(await fresh()).toEqual(await featuresForChangeByFullPass(opened, repoId, onA));
    await opened.db.updateTable('replay_index').set({ folders: 'damaged' }).execute();
    expect(await fresh()).toEqual(await featuresForChangeByFullPass(opened, repoId, onA));
  });
});
