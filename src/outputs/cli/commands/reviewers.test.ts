import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RepoBuilder } from '../../../sources/git/__fixtures__/repo-builder.ts';
import { runCliInProcess, type CliRun } from '../__fixtures__/in-process.ts';
import { openTestStore, storeKinds, type TestStore } from '../../../store/__fixtures__/test-stores.ts';

const cli = resolve(import.meta.dirname, '../../../../bin/flowgate.js');

/** Runs the real CLI in this process (a child process per call costs seconds on a loaded machine), capturing its output. */
const inProcess = (args: string[], env: Record<string, string>): Promise<CliRun> => runCliInProcess(args, env);
const T0 = 1_700_000_000;
const alice = { name: 'Alice', email: 'alice@example.com' };
const dave = { name: 'Dave', email: 'dave@example.com' };
const frank = { name: 'Frank', email: 'frank@example.com' };

let repo: RepoBuilder;
let dir: string;

/** Alice writes src/a.ts, Dave src/b.ts and a line of src/a.ts; both merge 24 small PRs; Frank's branch `pr` edits src/a.ts. */
function buildRepo(): void {
  repo = new RepoBuilder();
  dir = mkdtempSync(join(tmpdir(), 'flowgate-reviewers-'));
  let a = '';
  for (let i = 0; i < 4; i++) {
    a += `export const a${i} = ${i};\n`;
    repo.write('src/a.ts', a).commit(`a ${i}`, { author: alice, time: T0 + i * 3600 });
  }
  a += 'export const d = 1;\n';
  repo.write('src/b.ts', 'export const b = 1;\n').write('src/a.ts', a).commit('b', { author: dave, time: T0 + 5 * 3600 });
  for (let i = 0; i < 24; i++) {
    const arrival = T0 + 86_400 + i * 6 * 3600;
    repo.checkout(`f${i}`, true);
    repo.write(`docs/n${i}.md`, `note ${i}\n`).commit(`note ${i}`, { author: { name: `Dev${i % 3}`, email: `dev${i % 3}@example.com` }, time: arrival });
    repo.checkout('main');
    repo.merge(`f${i}`, `Merge pull request #${i + 1} from acme/f${i}`, { author: i % 2 === 0 ? alice : dave, time: arrival + (30 + (i % 5) * 20) * 60 });
  }
  repo.checkout('pr', true);
  repo.write('src/a.ts', `${a}export const z = 9;\n`).commit('touch a', { author: frank, time: T0 + 40 * 86_400 });
  repo.checkout('main');
}

beforeAll(buildRepo);
afterAll(() => {
  repo.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(storeKinds)('flowgate reviewers and simulate on %s', (kind) => {
  let store: TestStore;
  let env: Record<string, string>;
  const flowgate = (args: string[]) => inProcess([...args, '--db', store.location], { CI: 'true', ...env });
  beforeAll(async () => {
    store = await openTestStore(kind);
    env = store.schema === undefined ? {} : { FLOWGATE_DB_SCHEMA: store.schema };
    const mined = await flowgate(['analyze', repo.dir, '--no-report', '--no-steps']);
    expect(mined.stderr).toBe('');
  });
  afterAll(async () => store.dispose());

  it('chooses the expert, never the author, and moves away from a busy expert', async () => {
    const run = await flowgate(['reviewers', repo.dir, '--base', 'main', '--head', 'pr', '--json']);
    expect(run.stderr).toBe('');
    const selection = JSON.parse(run.stdout) as { reviewers: { email: string; role: string }[]; tier: string; estimate: { minutes: number } };
    expect(selection.tier).toBe('standard');
    expect(selection.reviewers.map((r) => r.email)).toEqual([alice.email]);
    expect(selection.estimate.minutes).toBeGreaterThan(0);

    const load = join(dir, `load-${kind}.json`);
    writeFileSync(load, JSON.stringify(Array.from({ length: 8 }, () => ({ reviewer: alice.email, estimatedMinutes: 120 }))));
    const busy = JSON.parse((await flowgate(['reviewers', repo.dir, '--base', 'main', '--head', 'pr', '--load', load, '--json'])).stdout) as typeof selection;
    expect(busy.reviewers.map((r) => r.email)).toEqual([dave.email]);

    const text = await flowgate(['reviewers', repo.dir, '--base', 'main', '--head', 'pr', '--tier', 'senior']);
    expect(text.stdout).toMatch(/estimated review \d+ min/);
    expect(text.stdout).toContain('no available senior or owner');
  });

  it('counts open review requests stored as events (flowgate import) as load', async () => {
    const at = (d: number): string => new Date((T0 + d * 86_400) * 1000).toISOString();
    const events = join(dir, `events-${kind}.jsonl`);
    writeFileSync(
      events,
      [90, 91, 92]
        .map((n) => JSON.stringify({ id: `pr-${n}`, type: 'pull_request', action: 'opened', at: at(39), number: n, author: 'dev1', requested_reviewers: [alice.email], additions: 2000 }))
        .join('\n'),
    );
    expect((await flowgate(['import', events, '--repo', repo.dir])).status).toBe(0);
    const busy = JSON.parse((await flowgate(['reviewers', repo.dir, '--base', 'main', '--head', 'pr', '--json'])).stdout) as { reviewers: { email: string; openReviews: number }[] };
    expect(busy.reviewers.map((r) => r.email)).toEqual([dave.email]);
  });

  it('simulates the measured queue with a what-if and a backtest', async () => {
    const run = await flowgate(['simulate', repo.dir, '--days', '30', '--horizon-days', '200', '--volume', '3', '--backtest', '--json']);
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout) as {
      measured: {
        reviews: number;
        reviewers: string[];
        tiers: { bySource: Record<string, number>; byTier: Record<string, number> };
        capacity: { reviewer: string; capacityPerDay: number; source: string; effortShare: number }[];
        utilisation: number;
        stable: boolean;
      };
      baseline: { waitP50Minutes: number; waitMeanMinutes: number };
      whatIf: { volumeFactor: number; waitMeanMinutes: number };
      backtest: { test: { count: number }; predicted: { p50Minutes: number }; observed: { p50Minutes: number } };
      estimateError: { test: number } | null;
    };
    expect(out.measured.reviews).toBe(24);
    expect(out.measured.reviewers).toEqual([alice.email, dave.email]);
    // Every merged pull request only adds a docs note: the policy's docs lane puts them in auto (reviewed then, measured as light).
    expect(out.measured.tiers).toEqual({ bySource: { decision: 0, policy: 24, default: 0 }, byTier: { auto: 24, light: 0, standard: 0, senior: 0 } });
    // Each merges a pull request 30-110 minutes after it arrives, with nothing else open: capacity is
    // one over that time (about 17 a day), nearly all of it their own work, far above a request every
    // 12 hours each. With 12 reviews each (under 20), the slower one gets the median of the two.
    expect(out.measured.capacity.map((c) => [c.reviewer, c.source])).toEqual([
      [alice.email, 'busy-periods'],
      [dave.email, 'pooled'],
    ]);
    expect(out.measured.capacity.every((c) => c.effortShare > 0.95)).toBe(true);
    expect(out.measured.capacity.every((c) => c.capacityPerDay > 10 && c.capacityPerDay < 30)).toBe(true);
    expect(out.measured.stable).toBe(true);
    expect(out.measured.utilisation).toBeLessThan(0.2);
    expect(out.whatIf.volumeFactor).toBe(3);
    expect(out.whatIf.waitMeanMinutes).toBeGreaterThan(out.baseline.waitMeanMinutes);
    expect(out.backtest.test.count).toBe(12);
    expect(out.backtest.predicted.p50Minutes).toBeGreaterThan(0);
    expect(out.estimateError?.test).toBeGreaterThan(0);
    // Only the last 5.5 days: the first merge is left out, the other 23 split 11 / 12.
    const recent = JSON.parse((await flowgate(['simulate', repo.dir, '--days', '30', '--backtest-days', '5.5', '--json'])).stdout) as { backtest: { train: { count: number }; test: { count: number } } };
    expect([recent.backtest.train.count, recent.backtest.test.count]).toEqual([11, 12]);
  });
});

describe('flowgate reviewers input errors', () => {
  const flowgate = (args: string[]) => inProcess([...args, '--db', join(dir, 'errors.db')], { CI: 'true' });
  it('rejects bad input with a clear error, before touching the store', async () => {
    // The real binary once: exit status and one line on standard error.
    const spawned = spawnSync(process.execPath, [cli, 'reviewers', repo.dir, '--base', 'main', '--head', 'pr', '--tier', 'urgent'], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(spawned.status).toBe(64);
    const tier = await flowgate(['reviewers', repo.dir, '--base', 'main', '--head', 'pr', '--tier', 'urgent']);
    expect(tier.status).toBe(64);
    expect(tier.stderr).toMatch(/--tier must be one of auto, light, standard, senior/);
    const rev = await flowgate(['reviewers', repo.dir, '--base', 'main', '--head', 'no-such-branch']);
    expect(rev.stderr).toMatch(/Revision "no-such-branch" does not resolve/);
    const badLoad = join(dir, 'bad.json');
    writeFileSync(badLoad, '[{"reviewer": 3}]');
    expect((await flowgate(['reviewers', repo.dir, '--base', 'main', '--head', 'pr', '--load', badLoad])).stderr).toMatch(/--load .* is invalid/);
    const other = new RepoBuilder();
    other.write('x', '1').commit('x');
    const unknown = await flowgate(['reviewers', other.dir, '--base', 'HEAD', '--head', 'HEAD']);
    other.dispose();
    expect(unknown.stderr).toMatch(/Run `flowgate analyze/);
  });
});
