import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../core/config.ts';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { runAnalysis } from '../run.ts';
import { LabelsConfig } from './config.ts';
import { changeFeatures, currentModel, featuresForChange, scoreChange, trainRepositoryModel } from './model.ts';
import { runLabels } from './run.ts';
import { labelsStep } from './step.ts';

const ada = { name: 'Ada', email: 'ada@example.com' };
const bob = { name: 'Bob', email: 'bob@example.com' };

/** A history with a keyword fix, a revert of a merged PR and a comment-only fix. */
function buildHistory(): { repo: RepoBuilder; shas: Record<string, string> } {
  const repo = new RepoBuilder();
  const shas: Record<string, string> = {};
  repo.write('src/calc.ts', 'export function add(a: number, b: number) {\n  // adds\n  return a - b;\n}\n');
  shas.a = repo.commit('Add calculator', { author: ada });
  repo.write('README.md', '# calc\n');
  shas.docs = repo.commit('Docs', { author: bob });
  repo.checkout('feature', true);
  repo.write('src/mul.ts', 'export const mul = (a: number, b: number) => a * b * 1;\n');
  repo.commit('Add mul', { author: bob });
  repo.checkout('main');
  shas.pr = repo.merge('feature', 'Merge pull request #12 from bob/feature', { author: bob });
  repo.write('src/calc.ts', 'export function add(a: number, b: number) {\n  // adds\n  return a + b;\n}\n');
  shas.fix = repo.commit('Fix add returning the difference', { author: bob });
  repo.remove('src/mul.ts');
  shas.revert = repo.commit(`Revert "Merge pull request #12 from bob/feature"\n\nThis reverts commit ${shas.pr}.`, { author: ada });
  repo.write('src/calc.ts', 'export function add(a: number, b: number) {\n  // adds two numbers\n  return a + b;\n}\n');
  shas.comment = repo.commit('Fix comment', { author: ada });
  return { repo, shas };
}

describe.each(storeKinds)('labels step on %s', (kind) => {
  let store: TestStore | undefined;
  let built: ReturnType<typeof buildHistory>;
  beforeAll(() => {
    built = buildHistory();
  });
  afterAll(() => built.repo.dispose());
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  async function idOf(sha: string): Promise<number> {
    const row = await store!.db.selectFrom('changes').select('id').where('sha', '=', sha).executeTakeFirstOrThrow();
    return row.id;
  }

  it('stores fixes, SZZ and revert labels with their evidence, and features; a second run adds nothing', async () => {
    store = await openTestStore(kind);
    const { mined } = await runAnalysis(store, built.repo.dir, { mineOnly: true });
    const context = { store, repoId: mined.repoId, repoPath: built.repo.dir, config: defaultConfig(), progress: () => undefined };
    const first = await labelsStep.run(context);
    expect(first).toMatchObject({ changes: 6, newFixes: 3, labels: 2, defectInducing: 2, model: { model: 'default' } });

    const fixes = await store.db.selectFrom('fixes').select(['change_id', 'kind', 'reverts_change_id']).orderBy('change_id').execute();
    expect(fixes).toEqual([
      { change_id: await idOf(built.shas.fix!), kind: 'keyword', reverts_change_id: null },
      { change_id: await idOf(built.shas.revert!), kind: 'revert', reverts_change_id: await idOf(built.shas.pr!) },
      { change_id: await idOf(built.shas.comment!), kind: 'keyword', reverts_change_id: null },
    ]);
    const labels = await store.db.selectFrom('defect_labels').selectAll().orderBy('fix_change_id').execute();
    expect(labels.map((l) => [l.inducing_change_id, l.fix_change_id, l.method])).toEqual([
      [await idOf(built.shas.a!), await idOf(built.shas.fix!), 'szz-blame'],
      [await idOf(built.shas.pr!), await idOf(built.shas.revert!), 'revert'],
    ]);
    expect(JSON.parse(labels[0]!.lines)).toEqual([{ path: 'src/calc.ts', line: 3 }]);
    const fixTime = await store.db.selectFrom('changes').select('commit_time').where('sha', '=', built.shas.fix!).executeTakeFirstOrThrow();
    expect(labels[0]!.known_at).toBe(fixTime.commit_time);

    const features = await changeFeatures(store, await idOf(built.shas.fix!));
    expect(features).toMatchObject({ nf: 1, la: 1, ld: 1, lt: 4, fix: 1, exp: 2, ndev: 1, nuc: 1 });
    // The comment fix comes after the add fix became known: the file and Ada carry one known defect.
    expect(await changeFeatures(store, await idOf(built.shas.comment!))).toMatchObject({ prior_bugs: 1, author_bugs: 1, prior_fixes: 1 });

    const second = await labelsStep.run(context);
    expect(second).toMatchObject({ newFixes: 0, newLabels: 0, labels: 2, featuresWritten: 0, szzMethod: 'none' });
  });

  it('ends an analysis by storing the replay index of the mainline it analyzed, after the labels it counts', async () => {
    store = await openTestStore(kind);
    const { mined, steps } = await runAnalysis(store, built.repo.dir);
    expect(Object.keys(steps)).toEqual(['labels', 'replay-index']);
    const tip = await store.db.selectFrom('changes').select(['position', 'sha']).where('repo_id', '=', mined.repoId).orderBy('position', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(steps['replay-index']).toMatchObject({ changes: tip.position + 1 });
    const row = await store.db.selectFrom('replay_index').select(['key', 'folders']).where('repo_id', '=', mined.repoId).executeTakeFirstOrThrow();
    expect(row.key.startsWith(`${tip.position}:${tip.sha}:`)).toBe(true);
    // Its folder totals count the labels the step before stored (src/calc.ts has two known defects).
    expect((JSON.parse(row.folders) as { totals: Record<string, number[]> }).totals['src/']?.[2]).toBe(2);
  });

  it('labels only what is new when history grows, streaming first and blaming the few new fixes', async () => {
    store = await openTestStore(kind);
    const own = buildHistory();
    try {
      const { mined } = await runAnalysis(store, own.repo.dir, { mineOnly: true });
      const first = await runLabels(store, mined.repoId, own.repo.dir, { config: LabelsConfig.parse({ method: 'stream' }) });
      expect(first).toMatchObject({ labels: 2, szzMethod: 'stream', newFixes: 3 });
      own.repo.write('src/calc.ts', 'export function add(a: number, b: number) {\n  // adds two numbers\n  return Number(a) + b;\n}\n');
      const later = own.repo.commit('Fix coercion', { author: ada });
      await runAnalysis(store, own.repo.dir, { mineOnly: true });
      const grown = await runLabels(store, mined.repoId, own.repo.dir, { config: LabelsConfig.parse({}) });
      expect(grown).toMatchObject({ changes: 7, newFixes: 1, newLabels: 1, labels: 3, szzMethod: 'blame', featuresWritten: 1 });
      const label = await store.db
        .selectFrom('defect_labels')
        .innerJoin('changes', 'changes.id', 'defect_labels.fix_change_id')
        .select('defect_labels.inducing_change_id')
        .where('changes.sha', '=', later)
        .executeTakeFirstOrThrow();
      expect(label.inducing_change_id).toBe(await idOf(own.shas.fix!));
    } finally {
      own.repo.dispose();
    }
  });

  it('scores with the default model until the repository has enough history, with per-feature contributions', async () => {
    store = await openTestStore(kind);
    const { mined } = await runAnalysis(store, built.repo.dir, { mineOnly: true });
    await runLabels(store, mined.repoId, built.repo.dir, { config: LabelsConfig.parse({}) });
    expect(await trainRepositoryModel(store, mined.repoId)).toMatchObject({ model: 'default', rows: 6 });
    expect((await currentModel(store, mined.repoId)).source).toBe('default');
    const small = await scoreChange(store, mined.repoId, { la: 2, ld: 1, nf: 1, ns: 1, nd: 1, lt: 100, exp: 50, sexp: 20, ndev: 2, nuc: 3, age: 30, entropy: 0, fix: 0 });
    const large = await scoreChange(store, mined.repoId, { la: 2000, ld: 300, nf: 30, ns: 4, nd: 12, lt: 9000, exp: 2, sexp: 0, ndev: 20, nuc: 90, age: 2, entropy: 4, fix: 0 });
    expect(large.probability).toBeGreaterThan(small.probability);
    expect(small.probability).toBeGreaterThan(0);
    expect(large.source).toBe('default');
    expect(large.contributions[0]).toMatchObject({ feature: expect.any(String) as unknown });
    expect(large.contributions.find((c) => c.feature === 'la')!.contribution).toBeGreaterThan(0);
  });

  it('computes the features of a proposed change as if it landed after the stored history', async () => {
    store = await openTestStore(kind);
    const { mined } = await runAnalysis(store, built.repo.dir, { mineOnly: true });
    await runLabels(store, mined.repoId, built.repo.dir, { config: LabelsConfig.parse({}) });
    const bobId = (await store.db.selectFrom('identities').select('id').where('email', '=', 'bob@example.com').executeTakeFirstOrThrow()).id;
    const features = await featuresForChange(store, mined.repoId, {
      time: 1_800_000_000,
      authorId: bobId,
      kind: 'squash',
      provenance: 'agent',
      commits: 1,
      title: 'Add subtraction',
      files: [{ path: 'src/calc.ts', oldPath: null, status: 'M', added: 3, deleted: 0 }],
    });
    // calc.ts has 4 lines, was touched by three changes (one of them defect-inducing, two fixes), and Bob made three changes.
    expect(features).toMatchObject({ la: 3, lt: 4, nuc: 3, prior_bugs: 1, prior_fixes: 2, exp: 3, fix: 0, prov_agent: 1, msg_feature: 1 });
    const risk = await scoreChange(store, mined.repoId, features);
    expect(risk.probability).toBeGreaterThan(0);
    expect(risk.probability).toBeLessThan(1);
  });
});
