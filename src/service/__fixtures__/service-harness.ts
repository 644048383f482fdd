import { createHmac, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PullRequestEvent } from '@octokit/webhooks-types';
import { testPostgresUrl } from '../../store/__fixtures__/test-stores.ts';
import { webhookExamples } from '../../sources/github/__fixtures__/fake-github.ts';

/** A fresh PostgreSQL database (graphile-worker needs its own schema, so one database per test file). */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `fg_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: testPostgresUrl });
      await client.connect();
      // pg's pool.end() resolves before its sockets have closed: wait for them (up to 5 s), so that
      // FORCE does not terminate a closing connection (an unhandled 57P01 in the test process).
      for (let i = 0; i < 100; i++) {
        const { rows } = await client.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
        if ((rows[0]?.n ?? 0) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** The signature GitHub sends for a body. */
export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Posts a signed webhook delivery to a running server. */
export async function deliver(base: string, secret: string, event: string, payload: unknown, id = randomBytes(8).toString('hex')): Promise<{ status: number; body: unknown; id: string }> {
  const body = JSON.stringify(payload);
  const response = await fetch(`${base}/webhooks/github`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': id, 'x-hub-signature-256': sign(secret, body) },
    body,
  });
  return { status: response.status, body: await response.json(), id };
}

let counter = 0;

/** A `pull_request` payload from the real examples, moved to another repository, number, head and time. */
export function pullRequestPayload(
  action: 'opened' | 'synchronize' | 'closed',
  options: { owner: string; repo: string; number: number; headSha?: string; updatedAt?: string; installationId?: number },
): PullRequestEvent {
  const example = webhookExamples('pull_request').find((e) => e.action === action) ?? webhookExamples('pull_request')[0];
  const payload = structuredClone(example) as PullRequestEvent;
  payload.repository.name = options.repo;
  payload.repository.full_name = `${options.owner}/${options.repo}`;
  payload.repository.owner.login = options.owner;
  payload.number = options.number;
  payload.pull_request.number = options.number;
  payload.pull_request.head.sha = options.headSha ?? createHmac('sha1', 'x').update(String(++counter)).digest('hex');
  payload.pull_request.updated_at = options.updatedAt ?? new Date(Date.UTC(2025, 0, 1, 0, 0, counter)).toISOString();
  payload.pull_request.state = 'open';
  if (options.installationId === undefined) delete (payload as { installation?: unknown }).installation;
  else payload.installation = { id: options.installationId, node_id: 'x' };
  return payload;
}
