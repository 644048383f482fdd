import { fork, spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { PullRequest } from '@octokit/webhooks-types';
import pg from 'pg';
import { createTestDatabase, pullRequestPayload, sign } from '../src/service/__fixtures__/service-harness.ts';
import { startFakeGitHub, type FakeGitHub } from '../src/sources/github/__fixtures__/fake-github.ts';
import { quantileOf } from './timing.ts';
import type { BenchResult } from './types.ts';

/**
 * The webhook service under load, on this machine: signed `pull_request` deliveries on loopback to
 * `flowgate serve` on PostgreSQL (its own process, running no jobs) with two `flowgate worker`
 * processes deciding them against the fake GitHub API (its own process, with the empty-Hono
 * reference). This process only generates load and measures. Everything shares the same 2 cores.
 */
const secret = 'bench-secret';
const deliveries = Number(process.env['FLOWGATE_BENCH_DELIVERIES'] ?? 1000);
const concurrency = 16;
const workerConcurrency = Number(process.env['FLOWGATE_BENCH_WORKER_CONCURRENCY'] ?? 16);
const bin = fileURLToPath(new URL('../bin/flowgate.js', import.meta.url));

/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
const epochNow = (): number => performance.timeOrigin + performance.now();

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux, 100 ticks a second); 0 when unreadable. */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** CPU per role: the flowgate processes by pid, PostgreSQL as the backends serving the bench's database. */
interface CpuRoles {
  worker: number;
  server: number;
  fake: number;
  postgres: number;
}

async function cpuSnapshot(admin: pg.Client, database: string, pids: { server?: number; workers: (number | undefined)[]; fake?: number }): Promise<{ roles: CpuRoles; backends: Map<number, number> }> {
  const { rows } = await admin.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
  const backends = new Map(rows.map((r) => [r.pid, cpuMs(r.pid)]));
  return {
    roles: { worker: pids.workers.reduce<number>((sum, pid) => sum + cpuMs(pid), 0), server: cpuMs(pids.server), fake: cpuMs(pids.fake), postgres: 0 },
    backends,
  };
}

function cpuBetween(before: Awaited<ReturnType<typeof cpuSnapshot>>, after: Awaited<ReturnType<typeof cpuSnapshot>>): CpuRoles {
  let postgres = 0;
  for (const [pid, ms] of after.backends) postgres += ms - (before.backends.get(pid) ?? 0);
  return {
    worker: after.roles.worker - before.roles.worker,
    server: after.roles.server - before.roles.server,
    fake: after.roles.fake - before.roles.fake,
    postgres,
  };
}


/** Sends the bodies with `concurrency` requests in flight; returns each request's latency and the wall time. */
async function load(url: string, bodies: { body: string; headers: Record<string, string> }[]): Promise<{ latencies: number[]; seconds: number; sentAt: number[] }> {
  const latencies: number[] = [];
  const sentAt: number[] = new Array<number>(bodies.length).fill(0);
  let next = 0;
  const start = performance.now();
  const lane = async (): Promise<void> => {
    for (let i = next++; i < bodies.length; i = next++) {
      const item = bodies[i];
      if (item === undefined) return;
      const t = performance.now();
      sentAt[i] = epochNow();
      const response = await fetch(url, { method: 'POST', headers: item.headers, body: item.body });
      await response.arrayBuffer();
      if (response.status !== 202 && response.status !== 200) throw new Error(`status ${response.status}`);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { latencies, seconds: (performance.now() - start) / 1000, sentAt };
}

/**
 * Open loop: sends the bodies at a fixed rate whatever the answers (as GitHub does), so latency is
 * measured at a load the service can sustain instead of at saturation, where a closed loop always
 * queues; returns each request's latency and when it was sent.
 */
async function loadAtRate(url: string, bodies: { body: string; headers: Record<string, string> }[], perSecond: number): Promise<{ latencies: number[]; sentAt: number[] }> {
  const latencies: number[] = [];
  const sentAt: number[] = new Array<number>(bodies.length).fill(0);
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (const [i, item] of bodies.entries()) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    sentAt[i] = epochNow();
    const t = performance.now();
    inFlight.push(
      fetch(url, { method: 'POST', headers: item.headers, body: item.body }).then(async (response) => {
        await response.arrayBuffer();
        if (response.status !== 202 && response.status !== 200) throw new Error(`status ${response.status}`);
        latencies.push(performance.now() - t);
      }),
    );
  }
  await Promise.all(inFlight);
  return { latencies, sentAt };
}

// ---- The fake GitHub process: the fake and the reference handler, driven over IPC. ----

interface FakeCalls {
  addPulls: (pulls: { pr: PullRequest; file: string }[]) => void;
  mark: () => number;
  /** POSTed comments on bench/repo pull requests in (first, first + count], at epoch ms, from request `from` on. */
  commentTimes: (from: number, first: number, count: number) => [number, number][];
  /** Requests since `from`, and how many of them were GraphQL queries. */
  calls: (from: number) => { total: number; graphql: number };
}

async function fakeProcess(): Promise<void> {
  const fake: FakeGitHub = await startFakeGitHub();
  fake.addRepo('bench', 'repo', 9);
  const empty = new Hono().post('/webhooks/github', (c) => c.json({ ok: true }, 202));
  const reference = await new Promise<ServerType>((resolve) => {
    const s: ServerType = serve({ fetch: empty.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const calls: FakeCalls = {
    addPulls: (pulls) => {
      for (const p of pulls) fake.addPull('bench/repo', p.pr, { files: [{ filename: p.file, additions: 30, deletions: 4 }] });
    },
    mark: () => fake.requests.length,
    commentTimes: (from, first, count) => {
      const times: [number, number][] = [];
      for (const r of fake.requests.slice(from)) {
        const m = /^\/repos\/bench\/repo\/issues\/(\d+)\/comments$/.exec(r.path);
        const n = Number(m?.[1]);
        if (m !== null && r.method === 'POST' && r.status === 201 && n > first && n <= first + count) times.push([n, performance.timeOrigin + r.at]);
      }
      return times;
    },
    calls: (from) => {
      const since = fake.requests.slice(from);
      return { total: since.length, graphql: since.filter((r) => r.path === '/graphql').length };
    },
  };
  process.on('message', (message: { id: number; method: keyof FakeCalls; args: unknown[] }) => {
    const fn = calls[message.method] as (...args: unknown[]) => unknown;
    process.send?.({ id: message.id, result: fn(...message.args) });
  });
  process.on('disconnect', () => {
    reference.close();
    void fake.close().then(() => process.exit(0));
  });
  process.send?.({ ready: { url: fake.url, appId: fake.appId, privateKey: fake.privateKey, reference: `http://127.0.0.1:${(reference.address() as AddressInfo).port}/webhooks/github` } });
}

interface FakeHandle {
  url: string;
  appId: string;
  privateKey: string;
  reference: string;
  call<M extends keyof FakeCalls>(method: M, ...args: Parameters<FakeCalls[M]>): Promise<ReturnType<FakeCalls[M]>>;
  child: ChildProcess;
}

async function startFakeProcess(): Promise<FakeHandle> {
  const profile = process.env['FLOWGATE_BENCH_PROFILE'];
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, FLOWGATE_BENCH_ROLE: 'fake-github', FLOWGATE_LOG: 'error' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...(profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`])],
  });
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 0;
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fake GitHub exited with ${String(code)}`)));
    child.on('message', (message: { id?: number; result?: unknown; ready?: Omit<FakeHandle, 'call' | 'child'> }) => {
      if (message.ready !== undefined) {
        resolve({
          ...message.ready,
          child,
          call: (method, ...args) =>
            new Promise((done) => {
              const id = nextId++;
              pending.set(id, done as (value: unknown) => void);
              child.send({ id, method, args });
            }),
        });
        return;
      }
      if (message.id !== undefined) {
        pending.get(message.id)?.(message.result);
        pending.delete(message.id);
      }
    });
  });
}

/** Starts a flowgate CLI process and waits for the line that says it runs; returns the process and that line. */
function startFlowgate(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; line: string }> {
  // FLOWGATE_BENCH_PROFILE=<dir>: CPU profiles of the server and workers, written when they stop.
  const profile = process.env['FLOWGATE_BENCH_PROFILE'];
  const child = spawn(process.execPath, [...(profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`]), bin, ...args], { env: { ...process.env, FLOWGATE_LOG: 'error', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line !== undefined) resolve({ child, line });
    });
    child.once('exit', (code) => reject(new Error(`flowgate ${args[0] ?? ''} exited with ${String(code)}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Runs the webhook benchmark. */
export async function run(): Promise<BenchResult[]> {
  const fake = await startFakeProcess();
  const database = await createTestDatabase();
  const children: ChildProcess[] = [fake.child];
  try {
    const server = await startFlowgate(['serve', '--db', database.url, '--port', '0', '--workers', '0'], { FLOWGATE_WEBHOOK_SECRET: secret }, /listening on/);
    children.push(server.child);
    const serviceUrl = `${/http:\/\/[^ ]+/.exec(server.line)?.[0] ?? ''}/webhooks/github`;
    const makeBodies = async (offset: number): Promise<{ body: string; headers: Record<string, string> }[]> => {
      const pulls = Array.from({ length: deliveries }, (_, i) => {
        const n = offset + i + 1;
        return { payload: pullRequestPayload('opened', { owner: 'bench', repo: 'repo', number: n, installationId: 9 }), file: `src/m${i % 50}.ts`, n };
      });
      await fake.call('addPulls', pulls.map((p) => ({ pr: p.payload.pull_request, file: p.file })));
      return pulls.map(({ payload, n }) => {
        const body = JSON.stringify(payload);
        return { body, headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': `bench-${n}`, 'x-hub-signature-256': sign(secret, body) } };
      });
    };
    const backlog = await makeBodies(0);
    const live = await makeBodies(deliveries);
    const paced = await makeBodies(2 * deliveries);
    // Warm up (JIT, connections) without measuring.
    const warm = backlog.slice(0, 20).map((b) => ({ ...b, headers: { ...b.headers, 'x-github-delivery': `warm-${b.headers['x-github-delivery']}` } }));
    await load(fake.reference, warm);
    const referenceRun = await load(fake.reference, backlog);
    const referenceRate = deliveries / referenceRun.seconds;

    // A: the server alone (no worker running): acknowledgements per second and their latency.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    const databaseName = new URL(database.url).pathname.slice(1);
    const pids = (): { server?: number; workers: (number | undefined)[]; fake?: number } => ({
      ...(server.child.pid === undefined ? {} : { server: server.child.pid }),
      workers: children.slice(2).map((c) => c.pid),
      ...(fake.child.pid === undefined ? {} : { fake: fake.child.pid }),
    });
    let before = await cpuSnapshot(admin, databaseName, pids());
    const ackRun = await load(serviceUrl, backlog);
    const ackCpu = cpuBetween(before, await cpuSnapshot(admin, databaseName, pids()));

    // B: two worker processes drain that backlog: decisions per second with the queue full.
    const waitDecided = async (from: number, first: number): Promise<Map<number, number>> => {
      const deadline = Date.now() + 600_000;
      let times = new Map(await fake.call('commentTimes', from, first, deliveries));
      while (times.size < deliveries && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        times = new Map(await fake.call('commentTimes', from, first, deliveries));
      }
      return times;
    };
    const workerEnv = { FLOWGATE_GITHUB_API_URL: fake.url, FLOWGATE_GITHUB_APP_ID: fake.appId, FLOWGATE_GITHUB_PRIVATE_KEY: fake.privateKey };
    const workerArgs = ['worker', '--db', database.url, '--concurrency', String(workerConcurrency)];
    let mark = await fake.call('mark');
    const drainStart = epochNow();
    const workers = await Promise.all([startFlowgate(workerArgs, workerEnv, /worker running/), startFlowgate(workerArgs, workerEnv, /worker running/)]);
    children.push(...workers.map((w) => w.child));
    before = await cpuSnapshot(admin, databaseName, pids());
    const drained = await waitDecided(mark, 0);
    const drainCpu = cpuBetween(before, await cpuSnapshot(admin, databaseName, pids()));
    const drainSeconds = (Math.max(...drained.values()) - drainStart) / 1000;
    const drainCalls = await fake.call('calls', mark);

    // C: sustained: deliveries arrive while the workers decide; latency from sending to the comment.
    mark = await fake.call('mark');
    before = await cpuSnapshot(admin, databaseName, pids());
    const liveRun = await load(serviceUrl, live);
    const decided = await waitDecided(mark, deliveries);
    const liveCpu = cpuBetween(before, await cpuSnapshot(admin, databaseName, pids()));

    // D: open loop at a rate below what C sustained (as webhooks arrive): ack and decision latency there.
    const closedSustained = decided.size / ((Math.max(...decided.values()) - Math.min(...liveRun.sentAt)) / 1000);
    const rate = Number(process.env['FLOWGATE_BENCH_RATE'] ?? Math.max(10, Math.floor(closedSustained * 0.8)));
    mark = await fake.call('mark');
    const pacedRun = await loadAtRate(serviceUrl, paced, rate);
    const pacedDecided = await waitDecided(mark, 2 * deliveries);
    const pacedSeconds = (Math.max(...pacedDecided.values()) - Math.min(...pacedRun.sentAt)) / 1000;
    const pacedLatencies = [...pacedDecided.entries()].map(([n, at]) => at - (pacedRun.sentAt[n - 2 * deliveries - 1] ?? at));
    await admin.end();
    const per = (cpu: CpuRoles, n: number): string =>
      `worker ${(cpu.worker / n).toFixed(2)}, server ${(cpu.server / n).toFixed(2)}, fake GitHub ${(cpu.fake / n).toFixed(2)}, PostgreSQL ${(cpu.postgres / n).toFixed(2)}`;
    const firstSent = Math.min(...liveRun.sentAt);
    const sustained = decided.size / ((Math.max(...decided.values()) - firstSent) / 1000);
    const decisionLatencies = [...decided.entries()].map(([n, at]) => at - (liveRun.sentAt[n - deliveries - 1] ?? at));
    const perDecision = (n: number): string => (n / Math.max(1, drained.size)).toFixed(1);
    return [
      {
        name: 'webhook acks per second (server alone)',
        value: deliveries / ackRun.seconds,
        unit: 'req/s',
        reference: { name: 'empty Hono handler', value: referenceRate },
        notes: `${concurrency} in flight; each ack verifies the signature and stores the delivery and its job in one PostgreSQL transaction`,
      },
      { name: 'webhook ack latency p99 (server alone)', value: quantileOf(ackRun.latencies, 0.99), unit: 'ms', reference: { name: 'empty Hono handler p99', value: quantileOf(referenceRun.latencies, 0.99) }, goal: '<= 100 ms' },
      {
        name: 'decisions per second, draining a backlog',
        value: drained.size / drainSeconds,
        unit: '/s',
        reference: { name: 'empty Hono handler req/s', value: referenceRate },
        goal: '>= 300/s',
        notes: `${drained.size}/${deliveries} decided by 2 worker processes x ${workerConcurrency} (startup included); ${perDecision(drainCalls.total)} fake GitHub API calls per decision (${perDecision(drainCalls.graphql)} GraphQL)`,
      },
      { name: 'decisions per second, sustained (acks + decisions)', value: sustained, unit: '/s', reference: { name: 'empty Hono handler req/s', value: referenceRate }, goal: '>= 300/s' },
      {
        name: 'CPU per decision, all processes (draining)',
        value: (drainCpu.worker + drainCpu.server + drainCpu.fake + drainCpu.postgres) / Math.max(1, drained.size),
        unit: 'ms',
        notes: `ms per decision while draining: ${per(drainCpu, Math.max(1, drained.size))}; sustained (acks included): ${per(liveCpu, Math.max(1, decided.size))}; per ack, server alone: server ${(ackCpu.server / deliveries).toFixed(2)}, PostgreSQL ${(ackCpu.postgres / deliveries).toFixed(2)}`,
      },
      { name: 'webhook ack latency p99 while deciding', value: quantileOf(liveRun.latencies, 0.99), unit: 'ms', reference: { name: 'server alone p99', value: quantileOf(ackRun.latencies, 0.99) }, goal: '<= 100 ms' },
      { name: 'decision latency p99 (delivery to comment)', value: quantileOf(decisionLatencies, 0.99), unit: 'ms', notes: `median ${quantileOf(decisionLatencies, 0.5).toFixed(0)} ms (closed loop: a queue of ${concurrency} in flight builds up); load average ${loadavg()[0]?.toFixed(1) ?? '?'} on 2 cores at the end of the run` },
      {
        name: `decisions per second, open loop at ${rate}/s`,
        value: pacedDecided.size / pacedSeconds,
        unit: '/s',
        reference: { name: 'rate sent', value: rate },
        notes: `${pacedDecided.size}/${deliveries} decided; deliveries sent at a fixed ${rate}/s (80% of the closed-loop sustained rate unless FLOWGATE_BENCH_RATE is set)`,
      },
      { name: `webhook ack latency p99, open loop at ${rate}/s`, value: quantileOf(pacedRun.latencies, 0.99), unit: 'ms', reference: { name: 'server alone p99', value: quantileOf(ackRun.latencies, 0.99) }, goal: '<= 100 ms' },
      { name: `decision latency p99, open loop at ${rate}/s`, value: quantileOf(pacedLatencies, 0.99), unit: 'ms', notes: `median ${quantileOf(pacedLatencies, 0.5).toFixed(0)} ms, delivery sent to PR comment posted` },
    ];
  } finally {
    await Promise.all(children.slice(1).map(stop));
    fake.child.disconnect();
    await stop(fake.child);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await database.drop();
  }
}

if (process.env['FLOWGATE_BENCH_ROLE'] === 'fake-github') await fakeProcess();
