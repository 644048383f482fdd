import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { createTestDatabase, pullRequestPayload, sign } from '../src/service/__fixtures__/service-harness.ts';
import { startService } from '../src/service/service.ts';
import { startFakeGitHub, type FakeGitHub } from '../src/sources/github/__fixtures__/fake-github.ts';
import type { BenchResult } from './types.ts';

/**
 * The webhook service under load, on this machine: signed `pull_request` deliveries on loopback to
 * `flowgate serve` on PostgreSQL with two `flowgate worker` processes deciding them against the fake
 * GitHub API (each decision: ~11 API calls, a gate decision, an audit record, a check run, a
 * comment). Reference: an empty Hono handler under the same load generator.
 */
const secret = 'bench-secret';
const deliveries = Number(process.env['FLOWGATE_BENCH_DELIVERIES'] ?? 1000);
const concurrency = 16;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
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
      sentAt[i] = t;
      const response = await fetch(url, { method: 'POST', headers: item.headers, body: item.body });
      await response.arrayBuffer();
      if (response.status !== 202 && response.status !== 200) throw new Error(`status ${response.status}`);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { latencies, seconds: (performance.now() - start) / 1000, sentAt };
}

function spawnWorker(dbUrl: string, fake: FakeGitHub): Promise<ChildProcess> {
  const bin = fileURLToPath(new URL('../bin/flowgate.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'worker', '--db', dbUrl, '--concurrency', '8'], {
    env: { ...process.env, FLOWGATE_GITHUB_API_URL: fake.url, FLOWGATE_GITHUB_APP_ID: fake.appId, FLOWGATE_GITHUB_PRIVATE_KEY: fake.privateKey, FLOWGATE_LOG: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('worker running')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)}`)));
  });
}

/** Runs the webhook benchmark. */
export async function run(): Promise<BenchResult[]> {
  const fake = await startFakeGitHub();
  const database = await createTestDatabase();
  const service = await startService({ db: database.url, port: 0, webhookSecret: secret, workers: 0 });
  const workers: ChildProcess[] = [];
  const empty = new Hono().post('/webhooks/github', (c) => c.json({ ok: true }, 202));
  const reference = await new Promise<ServerType>((resolve) => {
    const s: ServerType = serve({ fetch: empty.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  try {
    fake.addRepo('bench', 'repo', 9);
    const makeBodies = (offset: number) =>
      Array.from({ length: deliveries }, (_, i) => {
        const n = offset + i + 1;
        const payload = pullRequestPayload('opened', { owner: 'bench', repo: 'repo', number: n, installationId: 9 });
        fake.addPull('bench/repo', payload.pull_request, { files: [{ filename: `src/m${i % 50}.ts`, additions: 30, deletions: 4 }] });
        const body = JSON.stringify(payload);
        return { body, headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': `bench-${n}`, 'x-hub-signature-256': sign(secret, body) } };
      });
    const backlog = makeBodies(0);
    const live = makeBodies(deliveries);
    const referenceUrl = `http://127.0.0.1:${(reference.address() as AddressInfo).port}/webhooks/github`;
    const serviceUrl = `http://127.0.0.1:${service.port ?? 0}/webhooks/github`;
    // Warm up (JIT, connections) without measuring.
    const warm = backlog.slice(0, 20).map((b) => ({ ...b, headers: { ...b.headers, 'x-github-delivery': `warm-${b.headers['x-github-delivery']}` } }));
    await load(referenceUrl, warm);
    const referenceRun = await load(referenceUrl, backlog);
    const referenceRate = deliveries / referenceRun.seconds;

    // A: the server alone (no worker running): acknowledgements per second and their latency.
    const ackRun = await load(serviceUrl, backlog);

    // B: two worker processes drain that backlog: decisions per second with the queue full.
    const commentTimes = (from: number, first: number, count: number): Map<number, number> => {
      const times = new Map<number, number>();
      for (const r of fake.requests.slice(from)) {
        const m = /^\/repos\/bench\/repo\/issues\/(\d+)\/comments$/.exec(r.path);
        const n = Number(m?.[1]);
        if (m !== null && r.method === 'POST' && r.status === 201 && n > first && n <= first + count) times.set(n, r.at);
      }
      return times;
    };
    const waitDecided = async (from: number, first: number): Promise<Map<number, number>> => {
      const deadline = Date.now() + 600_000;
      let times = commentTimes(from, first, deliveries);
      while (times.size < deliveries && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        times = commentTimes(from, first, deliveries);
      }
      return times;
    };
    let mark = fake.requests.length;
    const drainStart = performance.now();
    workers.push(...(await Promise.all([spawnWorker(database.url, fake), spawnWorker(database.url, fake)])));
    const drained = await waitDecided(mark, 0);
    const drainSeconds = (Math.max(...drained.values()) - drainStart) / 1000;
    const apiCalls = (fake.requests.length - mark) / Math.max(1, drained.size);

    // C: sustained: deliveries arrive while the workers decide; latency from sending to the comment.
    mark = fake.requests.length;
    const liveRun = await load(serviceUrl, live);
    const decided = await waitDecided(mark, deliveries);
    const firstSent = Math.min(...liveRun.sentAt);
    const sustained = decided.size / ((Math.max(...decided.values()) - firstSent) / 1000);
    const decisionLatencies = [...decided.entries()].map(([n, at]) => at - (liveRun.sentAt[n - deliveries - 1] ?? at));
    return [
      {
        name: 'webhook acks per second (server alone)',
        value: deliveries / ackRun.seconds,
        unit: 'req/s',
        reference: { name: 'empty Hono handler', value: referenceRate },
        notes: `${concurrency} in flight; each ack verifies the signature and stores the delivery and its job in one PostgreSQL transaction`,
      },
      { name: 'webhook ack latency p99 (server alone)', value: percentile(ackRun.latencies, 99), unit: 'ms', reference: { name: 'empty Hono handler p99', value: percentile(referenceRun.latencies, 99) }, goal: '<= 100 ms' },
      {
        name: 'decisions per second, draining a backlog',
        value: drained.size / drainSeconds,
        unit: '/s',
        reference: { name: 'empty Hono handler req/s', value: referenceRate },
        goal: '>= 300/s',
        notes: `${drained.size}/${deliveries} decided by 2 worker processes x 8 (startup included); ${apiCalls.toFixed(1)} fake GitHub API calls per decision`,
      },
      { name: 'decisions per second, sustained (acks + decisions)', value: sustained, unit: '/s', reference: { name: 'empty Hono handler req/s', value: referenceRate }, goal: '>= 300/s' },
      { name: 'webhook ack latency p99 while deciding', value: percentile(liveRun.latencies, 99), unit: 'ms', goal: '<= 100 ms' },
      { name: 'decision latency p99 (delivery to comment)', value: percentile(decisionLatencies, 99), unit: 'ms', notes: `median ${percentile(decisionLatencies, 50).toFixed(0)} ms; load average ${(await import('node:os')).loadavg()[0]?.toFixed(1) ?? '?'} on 2 cores during the run` },
    ];
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await new Promise<void>((resolve) => reference.close(() => resolve()));
    await service.stop();
    await fake.close();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await database.drop();
  }
}
