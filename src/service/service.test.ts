import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGitHub, type FakeGitHub } from '../sources/github/__fixtures__/fake-github.ts';
import { commentMarker } from '../sources/github/pull-request.ts';
import { storeKinds } from '../store/__fixtures__/test-stores.ts';
import { createTestDatabase, deliver, pullRequestPayload, sign } from './__fixtures__/service-harness.ts';
import { queryDecisions, readFilters } from '../outputs/server/queries.ts';
import { ensureRepository } from '../store/repositories.ts';
import { startService, type Service } from './service.ts';

const secret = 'webhook-secret';

describe.each(storeKinds)('flowgate serve on %s', (kind) => {
  let fake: FakeGitHub;
  let service: Service;
  let base: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    fake = await startFakeGitHub();
    let url: string;
    if (kind === 'postgres') {
      const database = await createTestDatabase();
      url = database.url;
      cleanup = () => database.drop();
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'flowgate-serve-'));
      url = join(dir, 'flowgate.db');
      cleanup = () => Promise.resolve(rmSync(dir, { recursive: true, force: true }));
    }
    service = await startService({
      db: url,
      port: 0,
      webhookSecret: secret,
      workers: 2,
      github: { baseUrl: fake.url, appId: fake.appId, privateKey: fake.privateKey },
    });
    base = `http://127.0.0.1:${service.port ?? 0}`;
  });

  afterAll(async () => {
    await service.stop();
    await fake.close();
    await cleanup();
  });

  const setup = (repo: string, files: { filename: string; additions: number; deletions: number }[], number = 7): ReturnType<typeof pullRequestPayload> => {
    fake.addRepo('acme', repo, 11);
    const payload = pullRequestPayload('opened', { owner: 'acme', repo, number });
    fake.addPull(`acme/${repo}`, payload.pull_request, { files });
    return payload;
  };

  it('rejects a bad or missing signature with 401 and stores nothing', async () => {
    const body = JSON.stringify(pullRequestPayload('opened', { owner: 'acme', repo: 'nosig', number: 1 }));
    const bad = await fetch(`${base}/webhooks/github`, {
      method: 'POST',
      headers: { 'x-github-event': 'pull_request', 'x-github-delivery': 'd-bad', 'x-hub-signature-256': sign('wrong', body) },
      body,
    });
    expect(bad.status).toBe(401);
    const missing = await fetch(`${base}/webhooks/github`, { method: 'POST', headers: { 'x-github-event': 'pull_request', 'x-github-delivery': 'd-bad2' }, body });
    expect(missing.status).toBe(401);
    const stored = await service.store.db.selectFrom('webhook_deliveries').select('delivery_id').where('delivery_id', 'in', ['d-bad', 'd-bad2']).execute();
    expect(stored).toEqual([]);
  });

  it('decides a docs-only pull request: success check run, one comment, auto-merged at the decided head', async () => {
    const payload = setup('docs', [{ filename: 'docs/guide.md', additions: 10, deletions: 2 }]);
    const mark = fake.requests.length;
    const response = await deliver(base, secret, 'pull_request', payload);
    expect(response.status).toBe(202);
    await service.runner?.idle();
    // Four GitHub round trips: the facts (one GraphQL query), the check run, the comment, the merge
    // (App authentication aside: the installation lookup and its token, once per repository).
    expect(
      fake.requests
        .slice(mark)
        .filter((r) => !r.path.endsWith('/access_tokens') && !r.path.endsWith('/installation'))
        .map((r) => `${r.method} ${r.path}`),
    ).toEqual(['POST /graphql', 'POST /repos/acme/docs/check-runs', 'POST /repos/acme/docs/issues/7/comments', 'PUT /repos/acme/docs/pulls/7/merge']);
    const repo = fake.repo('acme/docs');
    expect(repo.checkRuns.filter((r) => r.name === 'flowgate')).toMatchObject([{ head_sha: payload.pull_request.head.sha, status: 'completed', conclusion: 'success' }]);
    expect(repo.comments).toHaveLength(1);
    expect(repo.comments[0]?.body).toContain(commentMarker);
    expect(repo.merges).toEqual([{ number: 7, sha: payload.pull_request.head.sha }]);
    const decisions = await service.store.db.selectFrom('pr_decisions').selectAll().where('repo', '=', 'acme/docs').execute();
    expect(decisions).toMatchObject([{ tier: 'auto', conclusion: 'success', merged: 1 }]);
    // One decision record: the gate's `decisions` row, linked from the service's row and named by the audit entry.
    const gate = await service.store.db.selectFrom('decisions').select(['id', 'subject', 'tier', 'outcome', 'repo_id']).where('subject', 'like', 'acme/docs#7@%').execute();
    expect(gate).toMatchObject([{ subject: `acme/docs#7@${payload.pull_request.head.sha}`, tier: 'auto', outcome: 'merge-allowed' }]);
    expect(gate[0]?.repo_id).not.toBeNull();
    expect(decisions[0]?.decision_id).toBe(gate[0]?.id);
    const audit = await service.store.db.selectFrom('audit_records').select(['kind', 'subject', 'record']).where('subject', 'like', 'acme/docs#7@%').execute();
    expect(audit.map((a) => ({ kind: a.kind, subject: a.subject }))).toEqual([{ kind: 'gate.decision', subject: `acme/docs#7@${payload.pull_request.head.sha}` }]);
    expect(JSON.parse(audit[0]?.record ?? '{}')).toMatchObject({ payload: { decisionId: gate[0]?.id } });
  });

  it('records the decision of a repository analyzed from a local clone on the clone\'s row (found by its origin owner/name), and the API finds it by either name', async () => {
    // A clone analyzed under its path whose origin is github.com/Acme/Cloned: no owner/name row exists.
    const clone = await ensureRepository(service.store.db, '/work/clones/cloned', '/work/clones/cloned', 'main', 'Acme/Cloned');
    const payload = setup('cloned', [{ filename: 'docs/a.md', additions: 1, deletions: 0 }]);
    await deliver(base, secret, 'pull_request', payload);
    await service.runner?.idle();
    const rows = await service.store.db.selectFrom('repositories').select(['id', 'key']).where((eb) => eb.or([eb('key', '=', 'acme/cloned'), eb('id', '=', clone.id)])).execute();
    expect(rows).toEqual([{ id: clone.id, key: '/work/clones/cloned' }]);
    const gate = await service.store.db.selectFrom('decisions').select('repo_id').where('subject', 'like', 'acme/cloned#7@%').execute();
    expect(gate).toEqual([{ repo_id: clone.id }]);
    // What /api/decisions answers for ?repo= either name.
    for (const name of ['acme/cloned', '/work/clones/cloned']) {
      const decisions = await queryDecisions(service.store.db, readFilters({ repo: name }));
      expect(decisions.map((d) => d.subject)).toEqual([`acme/cloned#7@${payload.pull_request.head.sha}`]);
    }
  });

  it('keeps one comment up to date across pushes and never merges a change that needs review', async () => {
    const payload = setup('code', [{ filename: 'src/app.ts', additions: 120, deletions: 30 }]);
    await deliver(base, secret, 'pull_request', payload);
    await service.runner?.idle();
    const repo = fake.repo('acme/code');
    expect(repo.checkRuns.find((r) => r.name === 'flowgate')?.conclusion).toBe('action_required');
    // A push: new head, later update time.
    const pushed = pullRequestPayload('synchronize', { owner: 'acme', repo: 'code', number: 7 });
    const pull = repo.pulls.get(7);
    if (pull === undefined) throw new Error('no pull');
    pull.pr.head.sha = pushed.pull_request.head.sha;
    pull.pr.updated_at = pushed.pull_request.updated_at;
    await deliver(base, secret, 'pull_request', pushed);
    await service.runner?.idle();
    expect(repo.comments).toHaveLength(1);
    expect(fake.count('POST', /acme\/code\/issues\/7\/comments$/)).toBe(1);
    expect(fake.count('PATCH', /acme\/code\/issues\/comments\/\d+$/)).toBeGreaterThanOrEqual(1);
    expect(repo.comments[0]?.body).toContain(pushed.pull_request.head.sha.slice(0, 7));
    expect(repo.comments[0]?.body).not.toContain(payload.pull_request.head.sha.slice(0, 7));
    expect(repo.checkRuns.filter((r) => r.name === 'flowgate').map((r) => r.head_sha)).toEqual([payload.pull_request.head.sha, pushed.pull_request.head.sha]);
    expect(repo.merges).toEqual([]);
  });

  it('does not auto-merge when a required check failed', async () => {
    const payload = setup('failing', [{ filename: 'README.md', additions: 1, deletions: 1 }]);
    // The policy on the base commit requires CI in the auto lane; the head's CI failed.
    fake.repo('acme/failing').policies.set(payload.pull_request.base.sha, 'tiers:\n  auto:\n    checks: ["ci / test"]\n');
    fake.addCheckRun('acme/failing', payload.pull_request.head.sha, 'ci / test', 'failure');
    await deliver(base, secret, 'pull_request', payload);
    await service.runner?.idle();
    const repo = fake.repo('acme/failing');
    expect(repo.checkRuns.find((r) => r.name === 'flowgate')?.conclusion).not.toBe('success');
    expect(repo.checkRuns.find((r) => r.name === 'flowgate')?.output.summary).toContain('ci / test');
    expect(repo.merges).toEqual([]);
  });

  it('processes the same delivery once and ignores a stale event', async () => {
    const payload = setup('dupes', [{ filename: 'src/x.ts', additions: 5, deletions: 0 }]);
    const first = await deliver(base, secret, 'pull_request', payload, 'same-delivery');
    const second = await deliver(base, secret, 'pull_request', payload, 'same-delivery');
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.body).toMatchObject({ duplicate: true });
    await service.runner?.idle();
    const decisions = await service.store.db.selectFrom('pr_decisions').select('delivery_id').where('repo', '=', 'acme/dupes').execute();
    expect(decisions).toHaveLength(1);
    // An event older than the stored state (out of order) changes nothing.
    const older = pullRequestPayload('synchronize', { owner: 'acme', repo: 'dupes', number: 7, updatedAt: '2020-01-01T00:00:00Z' });
    const stale = await deliver(base, secret, 'pull_request', older);
    await service.runner?.idle();
    const row = await service.store.db.selectFrom('webhook_deliveries').select('status').where('delivery_id', '=', stale.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('stale');
    const state = await service.store.db.selectFrom('pr_states').select('head_sha').where('repo', '=', 'acme/dupes').executeTakeFirstOrThrow();
    expect(state.head_sha).toBe(payload.pull_request.head.sha);
    expect(fake.repo('acme/dupes').checkRuns.filter((r) => r.name === 'flowgate')).toHaveLength(1);
  });

  it('retries GitHub 5xx on reads and secondary rate limits on writes', async () => {
    const payload = setup('flaky', [{ filename: 'docs/a.md', additions: 1, deletions: 0 }]);
    fake.fail({ method: 'POST', path: /^\/graphql$/, status: 502, times: 2 });
    fake.fail({ method: 'POST', path: /\/repos\/acme\/flaky\/check-runs$/, status: 403, headers: { 'retry-after': '1' } });
    fake.fail({ method: 'PUT', path: /\/repos\/acme\/flaky\/pulls\/7\/merge$/, status: 429, headers: { 'retry-after': '0' } });
    await deliver(base, secret, 'pull_request', payload);
    await service.runner?.idle();
    const repo = fake.repo('acme/flaky');
    expect(fake.requests.filter((r) => r.path === '/graphql').map((r) => r.status).slice(-3)).toEqual([502, 502, 200]);
    expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/repos/acme/flaky/check-runs').map((r) => r.status)).toEqual([403, 201]);
    expect(repo.checkRuns.filter((r) => r.name === 'flowgate')).toHaveLength(1);
    expect(repo.merges).toHaveLength(1);
  });
});
