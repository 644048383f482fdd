import { afterEach, describe, expect, it } from 'vitest';
import { rowSeeder } from '../analyses/routing/__fixtures__/seed-rows.ts';
import { openTestStore, storeKinds, type TestStore } from '../store/__fixtures__/test-stores.ts';
import type { PullRequestFacts } from './decider.ts';
import { gateDecider } from './gate-decider.ts';

const now = Math.floor(Date.now() / 1000);
const daysAgo = (d: number): number => now - d * 86_400;

function factsFor(repo: string, files: { path: string; additions: number }[], codeOwners: string | null): PullRequestFacts {
  const head = 'c'.repeat(40);
  return {
    repo,
    number: 42,
    title: 'Rework the connection pool',
    body: '',
    author: { login: 'alice', type: 'User' },
    draft: false,
    headRef: 'alice/pool',
    headSha: head,
    baseRef: 'main',
    baseSha: 'b'.repeat(40),
    files: files.map((f) => ({ path: f.path, previousPath: null, status: 'modified', additions: f.additions, deletions: 0 })),
    commits: [{ sha: head, message: 'Rework the connection pool', authorName: 'Alice', authorEmail: 'alice@example.com', authorLogin: 'alice' }],
    reviews: [],
    checks: [],
    policyText: null,
    codeOwners: codeOwners === null ? null : { source: `.github/CODEOWNERS at ${'b'.repeat(40)}`, text: codeOwners },
  };
}

describe.each(storeKinds)('gateDecider with the store (%s)', (kind) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it('takes risk from the store and requests the required CODEOWNERS owner first, then the reviewer routing chooses', async () => {
    store = await openTestStore(kind);
    const s = await rowSeeder(store.db, 'acme/routed');
    for (const name of ['Alice', 'Bob', 'Olga']) await s.person(name);
    for (let i = 0; i < 6; i++) await s.change({ author: 'Bob', time: daysAgo(30 - i), files: ['src/net/pool.ts', 'src/net/conn.ts'], lines: 40 });
    await s.change({ author: 'Alice', time: daysAgo(10), files: ['src/net/pool.ts'] });
    const facts = factsFor('acme/routed', [{ path: 'src/net/pool.ts', additions: 900 }], 'src/net/ @olga\n');
    const verdict = await gateDecider(facts, { db: store.db });
    expect(verdict.decision?.outcome).toBe('needs-review');
    expect(verdict.risk).not.toBeNull();
    expect(verdict.decision?.notes.join(' ') ?? '').toMatch(/risk from the/);
    // Olga owns the folder: required by CODEOWNERS, so requested first whatever routing says.
    expect(verdict.reviewers[0]).toBe('olga');
    expect(verdict.reviewers).not.toContain('alice');
    // Where no one owns the files, routing chooses from the history: Bob knows them best, never the author.
    const unowned = await gateDecider(factsFor('acme/routed', [{ path: 'src/net/pool.ts', additions: 60 }], 'docs/ @olga\n'), { db: store.db });
    expect(unowned.decision?.outcome).toBe('needs-review');
    expect(unowned.reviewers).toEqual(['bob']);
  });

  it('decides a repository never analyzed by rules alone, with the owners as reviewers', async () => {
    store = await openTestStore(kind);
    const facts = factsFor('acme/fresh', [{ path: 'src/net/pool.ts', additions: 900 }], 'src/net/ @olga\n');
    const verdict = await gateDecider(facts, { db: store.db });
    expect(verdict.risk).toBeNull();
    expect(verdict.decision?.notes.join(' ') ?? '').toMatch(/never analyzed/);
    expect(verdict.reviewers).toEqual(verdict.decision?.outcome === 'needs-review' ? ['olga'] : []);
  });
});
