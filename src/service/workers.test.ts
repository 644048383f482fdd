import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startFakeGitHub, type FakeGitHub } from '../sources/github/__fixtures__/fake-github.ts';
import { createTestDatabase, deliver, pullRequestPayload } from './__fixtures__/service-harness.ts';
import { startService, type Service } from './service.ts';

const secret = 'webhook-secret';
const bin = fileURLToPath(new URL('../../bin/flowgate.js', import.meta.url));

/**
 * Starts `flowgate worker` as a separate process and waits until it runs. `staleSeconds` is how long
 * a silent worker is taken for dead: short where a test kills workers and waits for their jobs to run
 * again, long where live workers must never be judged dead (on a loaded machine a beat can be seconds late).
 */
async function spawnWorker(dbUrl: string, fake: FakeGitHub, concurrency: number, staleSeconds: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, 'worker', '--db', dbUrl, '--concurrency', String(concurrency)], {
    env: {
      ...process.env,
      FLOWGATE_GITHUB_API_URL: fake.url,
      FLOWGATE_GITHUB_APP_ID: fake.appId,
      FLOWGATE_GITHUB_PRIVATE_KEY: fake.privateKey,
      FLOWGATE_WORKER_STALE_SECONDS: String(staleSeconds),
      FLOWGATE_LOG: 'error',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('worker running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)} before it ran`)));
  });
  return child;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

describe('flowgate worker processes on PostgreSQL', () => {
  let fake: FakeGitHub;
  let server: Service;
  let base: string;
  let dbUrl: string;
  let drop: () => Promise<void>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    fake = await startFakeGitHub();
    const database = await createTestDatabase();
    dbUrl = database.url;
    drop = () => database.drop();
    server = await startService({ db: dbUrl, port: 0, webhookSecret: secret, workers: 0 });
    base = `http://127.0.0.1:${server.port ?? 0}`;
  });

  afterAll(async () => {
    await Promise.all(children.map(stopChild));
    await server.stop();
    await fake.close();
    await drop();
  });

  const kill9 = async (child: ChildProcess): Promise<void> => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  it('a worker killed with -9 mid-job: the job is retried elsewhere with no second comment and no second merge', async () => {
    fake.addRepo('acme', 'crash', 21);
    const first = pullRequestPayload('opened', { owner: 'acme', repo: 'crash', number: 7 });
    fake.addPull('acme/crash', first.pull_request, { files: [{ filename: 'docs/a.md', additions: 3, deletions: 0 }] });
    const second = pullRequestPayload('opened', { owner: 'acme', repo: 'crash', number: 8 });
    fake.addPull('acme/crash', second.pull_request, { files: [{ filename: 'docs/b.md', additions: 3, deletions: 0 }] });
    const repo = fake.repo('acme/crash');

    // 1: GitHub creates the comment, then the worker dies before it hears back.
    const commentHeld = fake.hold('POST', /acme\/crash\/issues\/7\/comments$/, true);
    const worker1 = await spawnWorker(dbUrl, fake, 1, 2);
    children.push(worker1);
    await deliver(base, secret, 'pull_request', first);
    await commentHeld.arrived;
    await kill9(worker1);
    commentHeld.release();

    // 2: GitHub merges, then the next worker dies before it hears back.
    const mergeHeld = fake.hold('PUT', /acme\/crash\/pulls\/8\/merge$/, true);
    const worker2 = await spawnWorker(dbUrl, fake, 1, 2);
    children.push(worker2);
    await until('PR 7 merged', () => repo.merges.some((m) => m.number === 7));
    await deliver(base, secret, 'pull_request', second);
    await mergeHeld.arrived;
    await kill9(worker2);
    mergeHeld.release();

    const worker3 = await spawnWorker(dbUrl, fake, 1, 2);
    children.push(worker3);
    await until('both deliveries processed', async () => {
      const rows = await server.store.db.selectFrom('webhook_deliveries').select('status').where('repo', '=', 'acme/crash').execute();
      return rows.length === 2 && rows.every((r) => r.status === 'done');
    });

    expect(repo.comments.filter((c) => c.issue_number === 7)).toHaveLength(1);
    expect(repo.comments.filter((c) => c.issue_number === 8)).toHaveLength(1);
    expect(fake.count('POST', /acme\/crash\/issues\/7\/comments$/)).toBe(1);
    expect(fake.count('PUT', /acme\/crash\/pulls\/7\/merge$/)).toBe(1);
    expect(fake.count('PUT', /acme\/crash\/pulls\/8\/merge$/)).toBe(1);
    expect(repo.merges.map((m) => m.number).sort()).toEqual([7, 8]);
    expect(repo.checkRuns.filter((r) => r.name === 'flowgate')).toHaveLength(2);
    const runs = await server.store.db.selectFrom('webhook_deliveries').select('runs').where('repo', '=', 'acme/crash').execute();
    expect(runs.map((r) => r.runs).sort()).toEqual([2, 2]);
    const decisions = await server.store.db.selectFrom('pr_decisions').select('pr_number').where('repo', '=', 'acme/crash').execute();
    expect(decisions.map((d) => d.pr_number).sort()).toEqual([7, 8]);
    // Its 2-second threshold would take a busy worker of the next test for dead and run its jobs twice.
    await stopChild(worker3);
  }, 180_000);

  it('one server and two worker processes: 1,000 jobs, none lost, none run twice', async () => {
    // No worker dies here: a threshold no beat misses under load, so that every run counts.
    const workers = await Promise.all([spawnWorker(dbUrl, fake, 4, 120), spawnWorker(dbUrl, fake, 4, 120)]);
    children.push(...workers);
    fake.addRepo('acme', 'many', 31);
    // 100 pull requests, each opened (a full decision against GitHub) then updated 9 times (state only):
    // the jobs of one pull request share a queue, so they also run in order across the two processes.
    const pulls = 100;
    const payloads = Array.from({ length: pulls }, (_, i) => {
      const opened = pullRequestPayload('opened', { owner: 'acme', repo: 'many', number: i + 1, installationId: 31 });
      fake.addPull('acme/many', opened.pull_request, { files: [{ filename: `src/f${i}.ts`, additions: 20, deletions: 5 }] });
      const updates = Array.from({ length: 9 }, () => {
        const later = pullRequestPayload('closed', { owner: 'acme', repo: 'many', number: i + 1, installationId: 31, headSha: opened.pull_request.head.sha });
        return { ...later, action: 'labeled' };
      });
      return [opened, ...updates];
    }).flat();
    const total = payloads.length;
    expect(total).toBe(1000);
    for (let i = 0; i < total; i += 50) {
      const batch = payloads.slice(i, i + 50).map((p) => deliver(base, secret, 'pull_request', p));
      for (const r of await Promise.all(batch)) expect(r.status).toBe(202);
    }
    await until(
      '1,000 deliveries processed',
      async () => {
        const row = await server.store.db
          .selectFrom('webhook_deliveries')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('repo', '=', 'acme/many')
          .where('processed_at', 'is not', null)
          .executeTakeFirstOrThrow();
        return row.n === total;
      },
      240_000,
    );
    const runs = await server.store.db.selectFrom('webhook_deliveries').select(['runs', 'status']).where('repo', '=', 'acme/many').execute();
    expect(runs).toHaveLength(total);
    expect(runs.every((r) => r.runs === 1)).toBe(true);
    expect(runs.filter((r) => r.status === 'done')).toHaveLength(pulls);
    // A handler marks its delivery processed before graphile-worker deletes the finished job (it
    // batches completions): the queue empties a moment later, or a job is really left behind.
    await until(
      'an empty job queue',
      async () => (await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs`.execute(server.store.db)).rows[0]?.n === 0,
      30_000,
    );
    const repo = fake.repo('acme/many');
    expect(repo.comments).toHaveLength(pulls);
    expect(new Set(repo.comments.map((c) => c.issue_number)).size).toBe(pulls);
    expect(repo.checkRuns.filter((r) => r.name === 'flowgate')).toHaveLength(pulls);
    const decisions = await server.store.db.selectFrom('pr_decisions').select((eb) => eb.fn.countAll<number>().as('n')).where('repo', '=', 'acme/many').executeTakeFirstOrThrow();
    expect(decisions.n).toBe(pulls);
  }, 300_000);
});
