import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeQueue } from '../../service/store-queue.ts';
import { defaultIngest } from '../../service/wiring.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { seedChanges } from './__fixtures__/seed.ts';
import { createServer } from './app.ts';
import { createToken, hashToken, revokeToken } from './tokens.ts';

describe.each(storeKinds)('the API on %s', (kind) => {
  let store: TestStore;
  let app: ReturnType<typeof createServer>;
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    store = await openTestStore(kind);
    app = createServer({ db: store.db, queue: storeQueue(store.db), webhookSecret: 's', ingest: defaultIngest });
    for (const scope of ['ingest', 'read', 'admin'] as const) secrets[scope] = (await createToken(store.db, `${scope} token`, [scope])).secret;
    await seedChanges(store.db, 'acme/api', [
      { provenance: 'human', daysAgo: 3, author: 'ann' },
      { provenance: 'agent', daysAgo: 2, author: 'bot' },
      { provenance: 'human', daysAgo: 400, author: 'ann' },
    ]);
  });
  afterAll(() => store.dispose());

  const call = (path: string, secret: string | undefined, init: RequestInit = {}): Promise<Response> =>
    Promise.resolve(
      app.request(path, {
        ...init,
        headers: new Headers([...new Headers(init.headers).entries(), ...(secret === undefined ? [] : [['authorization', `Bearer ${secret}`] as [string, string]])]),
      }),
    );

  it('stores only the SHA-256 of token secrets', async () => {
    const rows = await store.db.selectFrom('api_tokens').select(['token_hash', 'prefix']).execute();
    expect(rows.map((r) => r.token_hash)).toContain(hashToken(secrets['read'] ?? ''));
    expect(JSON.stringify(rows)).not.toContain(secrets['read']);
  });

  it('refuses missing, unknown and revoked tokens (401) and missing scopes (403)', async () => {
    expect((await call('/api/changes', undefined)).status).toBe(401);
    expect((await call('/api/changes', 'fgt_nope')).status).toBe(401);
    expect((await call('/api/changes', secrets['ingest'])).status).toBe(403);
    expect((await call('/api/events?repo=acme/api', secrets['read'], { method: 'POST', body: '[]' })).status).toBe(403);
    const { token, secret } = await createToken(store.db, 'short-lived', ['read']);
    expect((await call('/api/changes', secret)).status).toBe(200);
    await revokeToken(store.db, token.id);
    expect((await call('/api/changes', secret)).status).toBe(401);
  });

  it('imports events with an ingest token, idempotently, and rejects bad ones without storing any', async () => {
    const events = [
      { id: 'e1', type: 'pull_request', action: 'opened', at: '2025-03-01T10:00:00Z', number: 1, author: 'ann' },
      { id: 'e2', type: 'deployment', at: 1740823200, environment: 'production', result: 'success', sha: 'abcdef1' },
    ];
    const first = await call('/api/events?repo=acme/api', secrets['ingest'], { method: 'POST', body: JSON.stringify(events) });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ inserted: 2, skipped: 0 });
    const again = await call('/api/events?repo=acme/api', secrets['admin'], { method: 'POST', body: events.map((e) => JSON.stringify(e)).join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
    expect(await again.json()).toEqual({ inserted: 0, skipped: 2 });
    const bad = await call('/api/events?repo=acme/api', secrets['ingest'], { method: 'POST', body: JSON.stringify([{ id: 'e3', type: 'deployment', at: 'yesterday' }]) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('EVENT_INVALID');
    const stored = await store.db.selectFrom('events').select('event_id').execute();
    expect(stored.map((e) => e.event_id).sort()).toEqual(['e1', 'e2']);
  });

  it('reads changes, metrics and decisions with filters', async () => {
    const all = (await (await call('/api/changes?repo=acme/api', secrets['read'])).json()) as { changes: { provenance: string }[] };
    expect(all.changes).toHaveLength(3);
    const agents = (await (await call('/api/changes?repo=acme/api&provenance=agent', secrets['read'])).json()) as { changes: { author: string }[] };
    expect(agents.changes.map((c) => c.author)).toEqual(['bot']);
    const metrics = (await (await call('/api/metrics?repo=acme/api&period=30d', secrets['read'])).json()) as { changes: number; byProvenance: Record<string, number> };
    expect(metrics).toMatchObject({ changes: 2, byProvenance: { human: 1, agent: 1 } });
    const decisions = (await (await call('/api/decisions?repo=acme/api&limit=2', secrets['read'])).json()) as { decisions: unknown[] };
    expect(decisions.decisions).toHaveLength(2);
    // One record per decision, from the gate's table: the service's (with their pull request) and the CLI's.
    const every = (await (await call('/api/decisions?repo=acme/api', secrets['read'])).json()) as { decisions: { source: string; prNumber: number | null; id: number | null }[] };
    expect(every.decisions.map((d) => d.source).sort()).toEqual(['gate', 'service', 'service', 'service']);
    expect(every.decisions.every((d) => d.id !== null)).toBe(true);
    expect(every.decisions.find((d) => d.source === 'gate')?.prNumber).toBeNull();
    const bad = await call('/api/changes?provenance=robot', secrets['read']);
    expect(bad.status).toBe(400);
  });
});
