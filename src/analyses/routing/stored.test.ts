import { afterEach, describe, expect, it } from 'vitest';
import { isFlowgateError } from '../../core/errors.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { rowSeeder, type RowSeeder } from './__fixtures__/seed-rows.ts';
import { parseCodeOwners } from './codeowners.ts';
import { reviewersFromStore } from './stored.ts';
import { openRequestsFromStore, storedReviewHistory } from './stored-history.ts';

const T0 = 1_700_000_000;
const day = (d: number): number => T0 + d * 86_400;
const iso = (t: number): string => new Date(t * 1000).toISOString();
const now = day(100);
const key = 'acme/widgets';

/**
 * Bob and Carol each changed src/net/a.ts once, on the same day (an exact tie on changes); Alice
 * wrote most of src/net/ (she is the author of the change being routed); Dave (no login) and a
 * bot touched it too. Carol reviewed Alice's five recent pull requests on src/net/a.ts.
 */
async function seed(store: TestStore, options: { carolReviews: boolean }): Promise<RowSeeder> {
  const s = await rowSeeder(store.db, key);
  for (const name of ['Alice', 'Bob', 'Carol', 'Erin']) await s.person(name);
  await s.person('Dave', { login: null });
  await s.person('Renovate', { login: 'renovate[bot]', kind: 'bot' });
  await s.change({ author: 'Bob', time: day(50), files: ['src/net/a.ts'] });
  await s.change({ author: 'Carol', time: day(50), files: ['src/net/a.ts'] });
  await s.change({ author: 'Erin', time: day(60), files: ['src/ui/z.ts'] });
  for (let i = 0; i < 5; i++) {
    const pr = 10 + i;
    await s.change({ author: 'Alice', time: day(80 + i), files: ['src/net/a.ts', 'src/net/b.ts'], prNumber: pr });
    const events: Record<string, unknown>[] = [
      { id: `pr-${pr}-opened`, type: 'pull_request', action: 'opened', at: iso(day(79 + i)), number: pr, author: 'alice' },
      { id: `pr-${pr}-merged`, type: 'pull_request', action: 'merged', at: iso(day(80 + i)), number: pr },
      // The author answering on her own pull request is not a review.
      { id: `pr-${pr}-self`, type: 'review', at: iso(day(79 + i) + 3600), number: pr, reviewer: 'alice', state: 'commented' },
      { id: `pr-${pr}-bot`, type: 'review', at: iso(day(79 + i) + 3600), number: pr, reviewer: 'renovate[bot]', state: 'approved' },
    ];
    if (options.carolReviews) {
      events.push({ id: `pr-${pr}-carol-1`, type: 'review', at: iso(day(79 + i) + 7200), number: pr, reviewer: 'carol', state: 'changes_requested' });
      events.push({ id: `pr-${pr}-carol-2`, type: 'review', at: iso(day(79 + i) + 9000), number: pr, reviewer: 'carol', state: 'approved' });
    }
    await s.events(events);
  }
  await s.change({ author: 'Dave', time: day(90), files: ['src/net/a.ts', 'src/net/b.ts'], lines: 200 });
  await s.change({ author: 'Renovate', time: day(91), files: ['src/net/a.ts'] });
  return s;
}

describe.each(storeKinds)('reviewersFromStore (%s)', (kind) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it('counts stored reviews toward expertise: the reviewer of a folder ranks above an equal non-reviewer', async () => {
    store = await openTestStore(kind);
    await seed(store, { carolReviews: true });
    const result = await reviewersFromStore(store.db, key, { files: ['src/net/a.ts'], author: 'alice', now });
    expect(result.logins).toEqual(['carol']);
    expect(result.reviewers[0]?.reasons.join('; ')).toMatch(/src\/net\/a\.ts: .*5 reviews/);
    const ranked = result.selection.candidates.map((c) => c.login);
    expect(ranked.indexOf('carol')).toBeLessThan(ranked.indexOf('bob'));
  });

  it('without the reviews the tie goes to Bob (the control for the test above)', async () => {
    store = await openTestStore(kind);
    await seed(store, { carolReviews: false });
    const result = await reviewersFromStore(store.db, key, { files: ['src/net/a.ts'], author: 'alice', now });
    expect(result.logins).toEqual(['bob']);
  });

  it('reads reviews per pull request once, skips the author answering, and joins them to the files of the merged change', async () => {
    store = await openTestStore(kind);
    const s = await seed(store, { carolReviews: true });
    const records = await storedReviewHistory(store.db, s.repoId).reviewsTouching(['src/net/a.ts'], [], 0);
    const byReviewer = new Map<string, number>();
    for (const r of records) byReviewer.set(r.reviewer, (byReviewer.get(r.reviewer) ?? 0) + 1);
    expect(Object.fromEntries(byReviewer)).toEqual({ '@carol': 5, '@renovate[bot]': 5 });
    expect(records.find((r) => r.reviewer === '@carol')?.paths).toEqual(['src/net/a.ts']);
    const folder = await storedReviewHistory(store.db, s.repoId).reviewsTouching([], ['src/net'], 0);
    expect(folder.find((r) => r.reviewer === '@carol')?.paths).toEqual(['src/net/a.ts', 'src/net/b.ts']);
  });

  it('never chooses the author, a bot, or someone without a login', async () => {
    store = await openTestStore(kind);
    await seed(store, { carolReviews: true });
    const result = await reviewersFromStore(store.db, key, { files: ['src/net/a.ts', 'src/net/b.ts'], author: 'alice', now, count: 3 });
    expect(result.logins).not.toContain('alice');
    expect(result.logins).not.toContain('renovate[bot]');
    expect(result.reviewers.every((r) => r.login !== null)).toBe(true);
    const reasons = Object.fromEntries(result.selection.excluded.map((e) => [e.name, e.reason]));
    expect(reasons).toMatchObject({ Alice: 'author', Renovate: 'bot', Dave: 'no-login' });
    expect(result.logins).toHaveLength(3);
  });

  it('moves the pick away from someone holding open review requests, and back once they are closed', async () => {
    store = await openTestStore(kind);
    const s = await seed(store, { carolReviews: true });
    await s.events([
      { id: 'pr-60-opened', type: 'pull_request', action: 'opened', at: iso(day(95)), number: 60, author: 'erin', requested_reviewers: ['carol'], additions: 900, deletions: 100 },
      { id: 'pr-61-opened', type: 'pull_request', action: 'opened', at: iso(day(96)), number: 61, author: 'erin', additions: 1000 },
      { id: 'pr-63-opened', type: 'pull_request', action: 'opened', at: iso(day(96)), number: 63, author: 'erin', requested_reviewers: ['Carol'] },
      { id: 'pr-61-carol', type: 'review', at: iso(day(97)), number: 61, reviewer: 'carol', state: 'changes_requested' },
      // Approved: Bob's request on #62 is done and weighs nothing.
      { id: 'pr-62-opened', type: 'pull_request', action: 'opened', at: iso(day(96)), number: 62, author: 'erin', requested_reviewers: [{ login: 'bob' }] },
      { id: 'pr-62-bob', type: 'review', at: iso(day(97)), number: 62, reviewer: 'bob', state: 'approved' },
    ]);
    const open = await openRequestsFromStore(store.db, { id: s.repoId, key }, { now });
    expect(open.map((r) => [r.prNumber, r.reviewer, r.source])).toEqual([
      [60, '@carol', 'requested'],
      [61, '@carol', 'reviewing'],
      [63, '@Carol', 'requested'],
    ]);
    // #60 is sized (1,000 lines); #63 is not, so it weighs the default 30 minutes.
    expect(open[0]?.estimatedMinutes).toBeGreaterThan(100);
    expect(open[2]?.estimatedMinutes).toBe(30);
    const busy = await reviewersFromStore(store.db, key, { files: ['src/net/a.ts'], author: 'alice', now });
    expect(busy.logins).toEqual(['bob']);
    expect(busy.selection.candidates.find((c) => c.login === 'carol')).toMatchObject({ openReviews: 3 });
    // The pull request being routed is not its own load.
    const self = await reviewersFromStore(store.db, key, { files: ['src/net/a.ts'], author: 'alice', now, prNumber: 60 });
    expect(self.openRequests.map((r) => r.prNumber)).toEqual([61, 63]);
    await s.events([
      { id: 'pr-60-merged', type: 'pull_request', action: 'merged', at: iso(day(98)), number: 60 },
      { id: 'pr-61-closed', type: 'pull_request', action: 'closed', at: iso(day(98)), number: 61 },
      { id: 'pr-63-merged', type: 'pull_request', action: 'merged', at: iso(day(98)), number: 63 },
    ]);
    const free = await reviewersFromStore(store.db, key, { files: ['src/net/a.ts'], author: 'alice', now });
    expect(free.logins).toEqual(['carol']);
  });

  it('counts reviewers flowgate itself requested (side effects of the service) as load', async () => {
    store = await openTestStore(kind);
    const s = await seed(store, { carolReviews: true });
    for (const pr of [70, 71]) {
      await s.events([{ id: `pr-${pr}-opened`, type: 'pull_request', action: 'opened', at: iso(day(99)), number: pr, author: 'erin', additions: 2000 }]);
      await store.db.insertInto('side_effects').values({ key: `reviewers:${key}#${pr}@${'b'.repeat(40)}`, kind: 'reviewers', result: JSON.stringify(['carol']), created_at: day(99) }).execute();
    }
    // Another repository's requests are not this one's load.
    await store.db.insertInto('side_effects').values({ key: `reviewers:${key}-fork#70@${'b'.repeat(40)}`, kind: 'reviewers', result: JSON.stringify(['bob']), created_at: day(99) }).execute();
    const result = await reviewersFromStore(store.db, key, { files: ['src/net/a.ts'], author: 'alice', now });
    expect(result.openRequests.map((r) => [r.prNumber, r.reviewer, r.source])).toEqual([
      [70, '@carol', 'flowgate'],
      [71, '@carol', 'flowgate'],
    ]);
    expect(result.logins).toEqual(['bob']);
  });

  it('is deterministic, honours senior and CODEOWNERS, and explains itself', async () => {
    store = await openTestStore(kind);
    await seed(store, { carolReviews: true });
    const codeOwners = parseCodeOwners('/src/net/ @erin\n', 'CODEOWNERS');
    const options = { files: ['src/net/a.ts'], author: '@alice', now, tier: 'senior' as const, codeOwners };
    const first = await reviewersFromStore(store.db, key, options);
    const second = await reviewersFromStore(store.db, key, options);
    expect(first.logins).toEqual(['erin']);
    expect({ ...second, selection: { ...second.selection, timings: {} } }).toEqual({ ...first, selection: { ...first.selection, timings: {} } });
    expect(first.explanation.some((line) => line.includes('owner of src/net/a.ts'))).toBe(true);
    const auto = await reviewersFromStore(store.db, key, { ...options, tier: 'auto' });
    expect(auto.logins).toEqual([]);
  });

  it('says NOT_FOUND for a repository not in the store', async () => {
    store = await openTestStore(kind);
    const error = await reviewersFromStore(store.db, 'nobody/nothing', { files: ['a'], author: 'x' }).catch((e: unknown) => e);
    expect(isFlowgateError(error, 'NOT_FOUND')).toBe(true);
  });
});
