import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/run.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { ensureRepository, findRepository, getRepository, hostedNameOf } from '../../store/repositories.ts';
import { RepoBuilder } from './__fixtures__/repo-builder.ts';

const mine = async (store: TestStore, dir: string): Promise<{ repoId: number; key: string }> => (await runAnalysis(store, dir, { mineOnly: true })).mined;

describe('hostedNameOf', () => {
  it('reads owner/name from the remote URL forms git accepts, lower case', () => {
    expect(hostedNameOf('git@github.com:Acme/Web-App.git')).toBe('acme/web-app');
    expect(hostedNameOf('https://github.com/acme/web')).toBe('acme/web');
    expect(hostedNameOf('https://github.com/acme/web.git/')).toBe('acme/web');
    expect(hostedNameOf('ssh://git@github.example.com:2222/acme/web.git')).toBe('acme/web');
  });

  it('gives nothing for local paths and file URLs', () => {
    expect(hostedNameOf('/srv/git/web.git')).toBeNull();
    expect(hostedNameOf('../web')).toBeNull();
    expect(hostedNameOf('file:///srv/git/acme/web.git')).toBeNull();
  });
});

describe.each(storeKinds)('repository keys (%s)', (kind) => {
  let store: TestStore;
  let repo: RepoBuilder;
  beforeAll(async () => {
    store = await openTestStore(kind);
    repo = new RepoBuilder();
    repo.write('a.ts', 'export const a = 1;\n');
    repo.commit('first');
    repo.git('remote', 'add', 'origin', 'git@github.com:Acme/Web.git');
  });
  afterAll(async () => {
    await store.dispose();
    repo.dispose();
  });

  it('an analyzed clone is found by its path and by its hosted owner/name, whatever the case', async () => {
    const mined = await mine(store, repo.dir);
    const byPath = await getRepository(store.db, mined.key);
    expect(byPath.remote).toBe('acme/web');
    expect((await getRepository(store.db, 'acme/web')).id).toBe(byPath.id);
    expect((await getRepository(store.db, 'Acme/Web')).id).toBe(byPath.id);
    // The service creating "its" repository gets the analyzed row, not a second one.
    expect((await ensureRepository(store.db, 'Acme/Web', null, null)).id).toBe(byPath.id);
    expect(await findRepository(store.db, 'acme/other')).toBeUndefined();
  });

  it('a clone mined after the service created owner/name adopts that row (events stay with the history)', async () => {
    const early = await ensureRepository(store.db, 'acme/api', null, null);
    const clone = new RepoBuilder();
    try {
      clone.write('b.ts', 'export const b = 1;\n');
      clone.commit('first');
      clone.git('remote', 'add', 'origin', 'https://github.com/acme/api.git');
      const mined = await mine(store, clone.dir);
      expect(mined.repoId).toBe(early.id);
      const row = await getRepository(store.db, mined.key);
      expect(row.id).toBe(early.id);
      expect(row.path).not.toBeNull();
    } finally {
      clone.dispose();
    }
  });

  it('a second clone of the same project keeps its own history', async () => {
    const other = new RepoBuilder();
    try {
      other.write('c.ts', 'export const c = 1;\n');
      other.commit('first');
      other.git('remote', 'add', 'origin', 'git@github.com:acme/web.git');
      const mined = await mine(store, other.dir);
      const first = await getRepository(store.db, repo.dir);
      expect(mined.repoId).not.toBe(first.id);
    } finally {
      other.dispose();
    }
  });
});
