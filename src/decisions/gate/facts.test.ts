import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFlowgateError } from '../../core/errors.ts';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { collectChangeFacts } from './facts.ts';

describe('collectChangeFacts', () => {
  let repo: RepoBuilder;
  let base: string;
  beforeAll(() => {
    repo = new RepoBuilder();
    repo.write('CODEOWNERS', '* @root\n').write('a.txt', 'one\ntwo\nthree\nfour\nfive\n').write('b.bin', Buffer.from([0, 1, 2, 3])).write('c.txt', 'c\n');
    base = repo.commit('base');
  });
  afterAll(() => repo.dispose());

  it('lists files against the merge base with renames, binaries and whitespace-only edits', async () => {
    repo.checkout('feature', true);
    repo.move('a.txt', 'moved/a.txt').write('b.bin', Buffer.from([0, 9, 9, 9])).write('c.txt', '  c\n\n');
    const head = repo.commit('feature');
    repo.checkout('main').write('d.txt', 'on main after the branch\n');
    repo.commit('main moves on');
    let listed: unknown = null;
    const facts = await collectChangeFacts(repo.dir, 'main', head, { onListed: (files) => (listed = files) });
    expect(facts.mergeBase).toBe(base);
    // Listed before the line counts: the same files, where they are and were.
    await expect.poll(() => listed).toMatchObject(facts.files.map(({ path, oldPath, status }) => ({ path, oldPath, status })));
    expect(facts.files).toEqual([
      { path: 'b.bin', oldPath: null, status: 'M', added: 0, deleted: 0, binary: true, whitespaceOnly: false },
      { path: 'c.txt', oldPath: null, status: 'M', added: 2, deleted: 1, binary: false, whitespaceOnly: true },
      { path: 'moved/a.txt', oldPath: 'a.txt', status: 'R', added: 0, deleted: 0, binary: false, whitespaceOnly: false },
    ]);
    expect(facts.codeOwners).toEqual({ source: `CODEOWNERS at ${facts.base}`, text: '* @root\n' });
    expect(facts.author).toEqual({ name: 'Default Dev', email: 'dev@example.com', login: null });
  });

  it('names a file whose path is not UTF-8 as the miner stores it, and judges its whitespace by that name', async () => {
    repo.checkout('main').checkout('latin', true);
    const odd = Buffer.from('data/caf\xe9.txt', 'latin1');
    repo.write(odd, 'one\n');
    const added = repo.commit('add a latin-1 name');
    repo.write(odd, 'one\ntwo\n');
    const edited = repo.commit('edit it for real');
    const facts = await collectChangeFacts(repo.dir, added, edited);
    expect(facts.files).toEqual([{ path: 'data/caf\\xe9.txt', oldPath: null, status: 'M', added: 1, deleted: 0, binary: false, whitespaceOnly: false }]);
  });

  it('lists what changed since each approved sha, null for one it cannot find', async () => {
    repo.checkout('main').checkout('reviewed', true);
    const first = repo.write('x.txt', '1\n').commit('x');
    const second = repo.write('y.txt', '1\n').commit('y');
    repo.checkout('main');
    const facts = await collectChangeFacts(repo.dir, 'main', second, { approvedShas: [first, second, '0123456789abcdef'] });
    expect(facts.changedSince).toEqual({ [first]: ['y.txt'], [second]: [], '0123456789abcdef': null });
    // The head and the number of commits the change brings, from the same log as its author.
    expect(facts.commits).toBe(2);
    expect(facts.headCommit).toMatchObject({ subject: 'y', parents: 1 });
    expect(facts.headCommit.time).toBeGreaterThan(0);
  });

  it('names bad revisions and non-repositories', async () => {
    const bad = await collectChangeFacts(repo.dir, 'main', 'nope').then(
      () => null,
      (error: unknown) => error,
    );
    expect(isFlowgateError(bad, 'REVISION_NOT_FOUND')).toBe(true);
    expect((bad as Error).message).toContain('"nope" is not a commit');
    // One rev-parse resolves both; an argument it would pass through as an option is no commit.
    await expect(collectChangeFacts(repo.dir, '--all', 'main')).rejects.toThrow(/"--all" is not a commit/);
    await expect(collectChangeFacts('/', 'a', 'b')).rejects.toThrow(/is not a git repository/);
  });
});
