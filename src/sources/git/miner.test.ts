import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/run.ts';
import { listChanges } from '../../store/changes.ts';
import { dumpRepository } from '../../store/__fixtures__/dump.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { RepoBuilder } from './__fixtures__/repo-builder.ts';
import { firstParentShas } from './history.ts';
import { repositoryKey } from './miner.ts';

const ada = { name: 'Ada Lovelace', email: 'ada@example.com' };
const adaOld = { name: 'A. Lovelace', email: 'ada@old-job.example' };
const bob = { name: 'Bob', email: 'bob@example.com' };

/** A history with every shape the miner must handle. */
function buildRichHistory(): { repo: RepoBuilder; shas: Record<string, string> } {
  const repo = new RepoBuilder();
  const shas: Record<string, string> = {};
  repo.write('.mailmap', 'Ada Lovelace <ada@example.com> A. Lovelace <ada@old-job.example>\n');
  repo.write('src/app.ts', 'export const a = 1;\n');
  shas.first = repo.commit('Initial commit', { author: adaOld });
  // A merged pull request with two branch commits whose authoring predates the merge.
  repo.checkout('feature', true);
  repo.write('src/feature.ts', 'export const f = 1;\n');
  const t0 = repo.tick();
  shas.branch1 = repo.commit('Start feature', { author: bob, time: t0 });
  repo.write('src/feature.ts', 'export const f = 2;\nexport const g = 3;\n');
  shas.branch2 = repo.commit('Finish feature\n\nCo-Authored-By: Claude <noreply@anthropic.com>', { author: bob });
  repo.checkout('main');
  shas.merge = repo.merge('feature', 'Merge pull request #7 from octo/feature', { author: ada });
  shas.branchStart = String(t0);
  // A squash-merged pull request.
  repo.checkout('squashme', true);
  repo.write('docs/guide.md', '# Guide\n');
  repo.commit('wip');
  repo.checkout('main');
  shas.squash = repo.squash('squashme', 'Add guide (#8)', { author: ada });
  // An octopus merge of two branches.
  repo.checkout('o1', true).write('o1.txt', 'one\n');
  repo.commit('o1');
  repo.checkout('main').checkout('o2', true).write('o2.txt', 'two\n');
  repo.commit('o2');
  repo.checkout('main');
  shas.octopus = repo.merge(['o1', 'o2'], 'Merge branches o1 and o2', { author: ada });
  // A rename with a small edit, a binary file, a non-UTF-8 path and a path with spaces.
  repo.move('src/app.ts', 'src/core/application.ts');
  repo.write('src/core/application.ts', 'export const a = 1;\nexport const b = 2;\n');
  shas.rename = repo.commit('Move app', { author: ada });
  repo.write('assets/logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 0, 0xff]));
  repo.write(Buffer.from('data/caf\xe9.txt', 'latin1'), 'latin-1 name\n');
  repo.write('my folder/read me.txt', 'spaces\n');
  shas.odd = repo.commit('Add binary, latin-1 and spaced paths', { author: ada });
  shas.empty = repo.commit('An empty commit', { author: ada, allowEmpty: true });
  repo.write('deps.json', '{}\n');
  shas.bot = repo.commit('Bump deps', { author: { name: 'dependabot[bot]', email: '49699333+dependabot[bot]@users.noreply.github.com' } });
  return { repo, shas };
}

describe.each(storeKinds)('mining on %s', (kind) => {
  let store: TestStore;
  let repo: RepoBuilder;
  let shas: Record<string, string>;
  beforeAll(() => {
    ({ repo, shas } = buildRichHistory());
  });
  afterAll(() => repo.dispose());
  afterEach(async () => store.dispose());

  it('stores every mainline change with kinds, PRs, files, brought-in commits and identities', async () => {
    store = await openTestStore(kind);
    const run = await runAnalysis(store, repo.dir, { mineOnly: true });
    const mainline = await firstParentShas(repo.dir, 'main');
    expect(run.mined.added).toBe(mainline.length);
    const changes = await listChanges(store.db, run.mined.repoId);
    const bySha = new Map(changes.map((c) => [c.sha, c]));
    expect([...bySha.keys()].sort()).toEqual([...mainline].sort());

    const merge = bySha.get(shas.merge!)!;
    expect(merge.kind).toBe('merge');
    expect(merge.pr_number).toBe(7);
    expect(merge.coding_started_at).toBe(Number(shas.branchStart));
    expect(merge.files_changed).toBe(1);
    expect(merge.lines_added).toBe(2);
    // The Claude trailer sits on a brought-in commit, not on the merge itself.
    expect(merge.provenance).toBe('ai-assisted');
    expect(merge.tool).toBe('claude-code');
    const brought = await store.db.selectFrom('change_commits').select('sha').where('change_id', '=', merge.id).execute();
    expect(brought.map((b) => b.sha).sort()).toEqual([shas.branch1, shas.branch2].sort());

    expect(bySha.get(shas.squash!)).toMatchObject({ kind: 'squash', pr_number: 8 });
    expect(bySha.get(shas.octopus!)).toMatchObject({ kind: 'octopus', files_changed: 2 });
    expect(JSON.parse(bySha.get(shas.octopus!)!.parents)).toHaveLength(3);

    const files = await store.db.selectFrom('change_files').selectAll().execute();
    const renamed = files.find((f) => f.path === 'src/core/application.ts');
    expect(renamed).toMatchObject({ status: 'R', old_path: 'src/app.ts', added: 1, deleted: 0, binary: 0 });
    expect(files.find((f) => f.path === 'assets/logo.png')).toMatchObject({ binary: 1, added: null, deleted: null });
    expect(files.find((f) => f.path === 'data/caf\\xe9.txt')).toMatchObject({ status: 'A', added: 1 });
    expect(files.find((f) => f.path === 'my folder/read me.txt')).toMatchObject({ status: 'A', added: 1 });
    expect(bySha.get(shas.empty!)).toMatchObject({ files_changed: 0, lines_added: 0 });

    // .mailmap makes the old and new address one identity.
    const first = bySha.get(shas.first!)!;
    expect(first.author_id).toBe(bySha.get(shas.rename!)!.author_id);
    const bot = bySha.get(shas.bot!)!;
    expect(bot.provenance).toBe('automation');
    const botIdentity = await store.db.selectFrom('identities').selectAll().where('id', '=', bot.author_id).executeTakeFirstOrThrow();
    expect(botIdentity.kind).toBe('bot');
  });

  it('is incremental, and reconciles a rewritten mainline with no duplicates or orphans', async () => {
    store = await openTestStore(kind);
    const work = new RepoBuilder();
    for (let i = 0; i < 5; i += 1) {
      work.write(`f${i}.txt`, `${i}\n`);
      work.commit(`c${i}`);
    }
    const first = await runAnalysis(store, work.dir, { mineOnly: true });
    expect(first.mined.added).toBe(5);
    const again = await runAnalysis(store, work.dir, { mineOnly: true });
    expect(again.mined.added).toBe(0);

    work.write('f5.txt', '5\n');
    work.commit('c5');
    const third = await runAnalysis(store, work.dir, { mineOnly: true });
    expect(third.mined.added).toBe(1);

    // Force-push: drop the last three commits and write two others.
    work.git('reset', '-q', '--hard', 'HEAD~3');
    work.write('g.txt', 'rewritten\n');
    work.commit('r1');
    work.write('h.txt', 'rewritten\n');
    work.commit('r2');
    const fourth = await runAnalysis(store, work.dir, { mineOnly: true });
    expect(fourth.mined.removed).toBe(3);
    expect(fourth.mined.added).toBe(2);
    const stored = await listChanges(store.db, fourth.mined.repoId);
    expect(stored.map((c) => c.sha)).toEqual(await firstParentShas(work.dir, 'main'));
    expect(stored.map((c) => c.position)).toEqual([4, 3, 2, 1, 0]);
    const orphans = await store.db
      .selectFrom('change_files')
      .leftJoin('changes', 'changes.id', 'change_files.change_id')
      .select('change_files.path')
      .where('changes.id', 'is', null)
      .execute();
    expect(orphans).toEqual([]);

    // The same history mined from scratch into a fresh store is identical.
    const fresh = await openTestStore(kind);
    await runAnalysis(fresh, work.dir, { mineOnly: true });
    const { key } = await repositoryKey(work.dir);
    expect(await dumpRepository(store.db, key)).toEqual(await dumpRepository(fresh.db, key));
    await fresh.dispose();
    work.dispose();
  });
});

describe('repositoryKey', () => {
  it('is the real top level from anywhere in a work tree, and the git dir of a bare repository or from inside .git', async () => {
    const repo = new RepoBuilder();
    const links = mkdtempSync(join(tmpdir(), 'flowgate-key-'));
    try {
      repo.write('deep/er/file.txt', 'x\n').commit('add');
      const top = realpathSync(repo.dir);
      symlinkSync(repo.dir, join(links, 'linked'));
      for (const from of [repo.dir, join(repo.dir, 'deep', 'er'), join(links, 'linked', 'deep')]) expect(await repositoryKey(from)).toEqual({ key: top, path: top });
      expect((await repositoryKey(join(repo.dir, '.git'))).key).toBe(join(top, '.git'));
      execFileSync('git', ['clone', '-q', '--bare', repo.dir, join(links, 'bare.git')]);
      expect((await repositoryKey(join(links, 'bare.git'))).key).toBe(realpathSync(join(links, 'bare.git')));
      await expect(repositoryKey(links)).rejects.toThrow(/not a git repository/);
    } finally {
      repo.dispose();
      rmSync(links, { recursive: true, force: true });
    }
  });
});

describe.each(storeKinds)('mining with one blob missing on %s', (kind) => {
  let store: TestStore;
  afterEach(async () => store.dispose());

  it('leaves only the paths whose blob is absent without line counts; every other file keeps its numstat', async () => {
    store = await openTestStore(kind);
    const repo = new RepoBuilder();
    try {
      const first = repo.write('src/a.ts', 'export const a = 1;\nexport const b = 2;\n').write('assets/data.txt', 'v1\n').commit('add');
      const second = repo.write('src/a.ts', 'export const a = 1;\nexport const b = 3;\n').commit('edit a');
      const third = repo.write('assets/data.txt', 'v2\n').write('src/b.ts', 'export const c = 1;\nexport const d = 2;\nexport const e = 3;\n').commit('update data, add b');
      const fourth = repo.write('src/a.ts', 'export const a = 10;\nexport const b = 3;\nexport const z = 0;\n').commit('edit a again');
      const blob = repo.git('rev-parse', `${first}:assets/data.txt`).trim();
      rmSync(join(repo.dir, '.git', 'objects', blob.slice(0, 2), blob.slice(2)));
      // git itself now stops on the history: the case the miner must survive.
      expect(() => execFileSync('git', ['log', '--numstat', '--format=%H'], { cwd: repo.dir, stdio: 'pipe' })).toThrow(/unable to read/);

      const run = await runAnalysis(store, repo.dir, { mineOnly: true });
      expect(run.mined.added).toBe(4);
      // The two commits that need the absent blob (it is the new side of one, the old side of the other).
      expect(run.mined.missingLineCounts).toBe(2);
      expect(run.mined.warnings.join(' ')).toMatch(/assets\/data\.txt/);
      const files = await store.db
        .selectFrom('change_files')
        .innerJoin('changes', 'changes.id', 'change_files.change_id')
        .select(['changes.sha', 'change_files.path', 'change_files.added', 'change_files.deleted', 'change_files.binary'])
        .where('changes.repo_id', '=', run.mined.repoId)
        .execute();
      const row = (sha: string, path: string): unknown => {
        const f = files.find((x) => x.sha === sha && x.path === path);
        return f === undefined ? undefined : { added: f.added, deleted: f.deleted, binary: f.binary };
      };
      expect(row(first, 'src/a.ts')).toEqual({ added: 2, deleted: 0, binary: 0 });
      // Marked: no counts, and not binary.
      expect(row(first, 'assets/data.txt')).toEqual({ added: null, deleted: null, binary: 0 });
      expect(row(second, 'src/a.ts')).toEqual({ added: 1, deleted: 1, binary: 0 });
      expect(row(third, 'src/b.ts')).toEqual({ added: 3, deleted: 0, binary: 0 });
      expect(row(third, 'assets/data.txt')).toEqual({ added: null, deleted: null, binary: 0 });
      // Changes after the missing blob keep their counts (the old miner dropped them all).
      expect(row(fourth, 'src/a.ts')).toEqual({ added: 2, deleted: 1, binary: 0 });
      const changes = await listChanges(store.db, run.mined.repoId);
      expect(changes.find((c) => c.sha === fourth)).toMatchObject({ lines_added: 2, lines_deleted: 1, files_changed: 1 });
      expect(changes.find((c) => c.sha === third)).toMatchObject({ lines_added: 3, files_changed: 2 });
    } finally {
      repo.dispose();
    }
  });
});

describe('mining odd repositories', () => {
  let store: TestStore;
  afterEach(async () => store.dispose());

  it('mines a partial clone with absent blobs, reporting what it could not count', async () => {
    store = await openTestStore('sqlite');
    const origin = new RepoBuilder();
    origin.git('config', 'uploadpack.allowFilter', 'true');
    for (let i = 0; i < 3; i += 1) {
      origin.write(`f${i}.txt`, `line ${i}\n`);
      origin.commit(`c${i}`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-partial-'));
    execFileSync('git', ['clone', '-q', '--no-checkout', '--filter=blob:none', `file://${origin.dir}`, dir]);
    // Cut the promisor remote off so the absent blobs cannot be fetched.
    execFileSync('git', ['remote', 'set-url', 'origin', 'file:///nonexistent/flowgate'], { cwd: dir });
    const run = await runAnalysis(store, dir, { mineOnly: true });
    expect(run.mined.added).toBe(3);
    expect(run.mined.missingLineCounts).toBe(3);
    expect(run.mined.warnings.join(' ')).toMatch(/missing/i);
    const files = await store.db.selectFrom('change_files').select('path').execute();
    expect(files.map((f) => f.path).sort()).toEqual(['f0.txt', 'f1.txt', 'f2.txt']);
    origin.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the problem for a path that is not a repository, an empty repository and a missing branch', async () => {
    store = await openTestStore('sqlite');
    const plain = mkdtempSync(join(tmpdir(), 'flowgate-plain-'));
    await expect(runAnalysis(store, plain, { mineOnly: true })).rejects.toMatchObject({ code: 'NOT_A_REPOSITORY' });
    const empty = new RepoBuilder();
    await expect(runAnalysis(store, empty.dir, { mineOnly: true })).rejects.toMatchObject({
      code: 'REVISION_NOT_FOUND',
      message: expect.stringMatching(/no commits/) as unknown,
    });
    empty.write('a', 'a\n');
    empty.commit('a');
    await expect(runAnalysis(store, empty.dir, { mineOnly: true, branch: 'nope' })).rejects.toMatchObject({ code: 'REVISION_NOT_FOUND' });
    rmSync(plain, { recursive: true, force: true });
    empty.dispose();
  });
});
