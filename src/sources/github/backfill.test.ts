import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { pullRequestPayload } from '../../service/__fixtures__/service-harness.ts';
import { startFakeGitHub, type FakeGitHub } from './__fixtures__/fake-github.ts';
import { backfillRepository } from './backfill.ts';
import { gitHubClients } from './client.ts';

describe.each(storeKinds)('github backfill on %s', (kind) => {
  let store: TestStore;
  let fake: FakeGitHub;

  beforeAll(async () => {
    store = await openTestStore(kind);
    fake = await startFakeGitHub();
    fake.addRepo('acme', 'hist', 5);
    for (let n = 1; n <= 130; n++) {
      const payload = pullRequestPayload('opened', { owner: 'acme', repo: 'hist', number: n });
      const pull = fake.addPull('acme/hist', payload.pull_request, { reviews: n % 10 === 0 ? [{ login: 'rev', state: 'APPROVED' }] : [] });
      if (n % 2 === 0) {
        pull.pr.merged = true;
        pull.pr.merged_at = '2025-02-01T00:00:00Z';
        pull.pr.closed_at = '2025-02-01T00:00:00Z';
        pull.pr.merge_commit_sha = 'c'.repeat(40);
      }
      if (n <= 3) fake.addCheckRun('acme/hist', payload.pull_request.head.sha, 'ci', 'success');
    }
    fake.repo('acme/hist').deployments.push({ id: 77, sha: 'd'.repeat(40), environment: 'production', statuses: [{ state: 'in_progress', created_at: '2025-02-02T00:00:00Z' }, { state: 'success', created_at: '2025-02-02T00:10:00Z' }] });
  });
  afterAll(async () => {
    await fake.close();
    await store.dispose();
  });

  const client = async () => (await gitHubClients({ baseUrl: fake.url, appId: fake.appId, privateKey: fake.privateKey }).forRepo('acme', 'hist')).client;

  it('pages through pull requests, reviews, checks and deployments, waits out rate limits, resumes where it stopped, and skips unchanged data (304)', async () => {
    const now = Math.floor(Date.now() / 1000);
    // A primary rate limit on the first page and a secondary one on deployments: both waited out.
    fake.fail({ method: 'GET', path: /\/repos\/acme\/hist\/pulls$/, status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now) } });
    fake.fail({ method: 'GET', path: /\/repos\/acme\/hist\/deployments$/, status: 429, headers: { 'retry-after': '1' } });
    // The second page fails for good (not retryable): the run stops with page 1 stored.
    fake.fail({ method: 'GET', path: /\/repos\/acme\/hist\/pulls\/101\/reviews$/, status: 404 });
    await expect(backfillRepository(store.db, await client(), { owner: 'acme', repo: 'hist' })).rejects.toThrow(/injected failure/);
    const cursor = await store.db.selectFrom('backfill_cursors').selectAll().where('resource', '=', 'pulls').executeTakeFirstOrThrow();
    expect(cursor).toMatchObject({ done: 0 });
    expect(cursor.next_url).toContain('page=2');
    const afterFirst = await store.db.selectFrom('events').select('event_id').execute();
    expect(afterFirst.filter((e) => e.event_id.endsWith(':opened'))).toHaveLength(100);

    const pagesBefore = fake.requests.filter((r) => r.path === '/repos/acme/hist/pulls').length;
    const resumed = await backfillRepository(store.db, await client(), { owner: 'acme', repo: 'hist' });
    const pageRequests = fake.requests.filter((r) => r.path === '/repos/acme/hist/pulls').slice(pagesBefore);
    expect(pageRequests.map((r) => new URLSearchParams(r.query).get('page'))).toEqual(['2']);
    expect(resumed.counts).toMatchObject({ pulls: 30, deployments: 1 });
    const events = await store.db.selectFrom('events').select(['event_id', 'type', 'action', 'result']).execute();
    expect(events.filter((e) => e.action === 'opened')).toHaveLength(130);
    expect(events.filter((e) => e.action === 'merged')).toHaveLength(65);
    expect(events.filter((e) => e.type === 'review')).toHaveLength(13);
    expect(events.filter((e) => e.type === 'check')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'deployment')).toMatchObject([{ result: 'success' }]);
    const statuses = fake.requests.filter((r) => r.path.startsWith('/repos/acme/hist/pulls') || r.path.endsWith('/deployments')).map((r) => r.status);
    expect(statuses).toContain(403);
    expect(statuses).toContain(429);

    // Nothing changed: the first page answers 304 and nothing is re-read.
    const again = await backfillRepository(store.db, await client(), { owner: 'acme', repo: 'hist' });
    expect(again.unchanged).toContain('pulls');
    expect(again.inserted).toBe(0);
    expect(fake.requests.filter((r) => r.path === '/repos/acme/hist/pulls').at(-1)?.status).toBe(304);
  });
});
