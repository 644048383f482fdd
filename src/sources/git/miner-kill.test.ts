import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/run.ts';
import { dumpRepository } from '../../store/__fixtures__/dump.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { writeSyntheticHistory } from './__fixtures__/synthetic-history.ts';
import { repositoryKey } from './miner.ts';

const cli = resolve(import.meta.dirname, '../../../bin/flowgate.js');

/** When to kill: after some milliseconds (start-up, before any batch), or once the store holds this many changes. */
type KillAt = { afterMs: number } | { changes: number } | null;

/** Runs `flowgate analyze` and kills it with SIGKILL at `killAt`; resolves with the exit signal or code. */
function analyzeAndKill(repo: string, store: TestStore, killAt: KillAt): Promise<string> {
  return new Promise((done, fail) => {
    const env = { ...process.env, CI: 'true', ...(store.schema === undefined ? {} : { FLOWGATE_DB_SCHEMA: store.schema }) };
    const child = spawn(process.execPath, [cli, 'analyze', repo, '--db', store.location, '--no-report', '--no-steps', '--batch-size', '7', '--json'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let exited = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAt !== null && 'afterMs' in killAt ? setTimeout(() => child.kill('SIGKILL'), killAt.afterMs) : null;
    // By progress, not by time: a fast machine finishes a run before any fixed delay.
    const watch = async (target: number): Promise<void> => {
      while (!exited) {
        const row = await store.db.selectFrom('changes').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
        if (Number(row?.n ?? 0) >= target) {
          child.kill('SIGKILL');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    if (killAt !== null && 'changes' in killAt) void watch(killAt.changes).catch(fail);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      exited = true;
      if (timer !== null) clearTimeout(timer);
      if (killAt === null && code !== 0) fail(new Error(`analyze failed (${code}): ${stderr}`));
      done(signal ?? String(code));
    });
  });
}

describe.each(storeKinds)('kill -9 during analyze on %s', (kind) => {
  let repoDir: string;
  beforeAll(() => {
    repoDir = mkdtempSync(join(tmpdir(), 'flowgate-kill-'));
    writeSyntheticHistory(repoDir, { changes: 600, mergeEvery: 4 });
  });
  afterAll(() => rmSync(repoDir, { recursive: true, force: true }));

  it('resumes after random kills and ends equal to an uninterrupted run', async () => {
    const killed = await openTestStore(kind);
    const reference = await openTestStore(kind);
    // A seeded sequence of kill points: once during start-up, then at growing, random numbers of stored changes.
    let seed = kind === 'sqlite' ? 7 : 11;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const points = [1, 2, 3].map(() => 10 + Math.floor(random() * 560)).sort((a, b) => a - b);
    const signals: string[] = [await analyzeAndKill(repoDir, killed, { afterMs: 300 })];
    for (const changes of points) signals.push(await analyzeAndKill(repoDir, killed, { changes }));
    expect(signals.slice(1)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL']);
    await analyzeAndKill(repoDir, killed, null);

    await runAnalysis(reference, repoDir, { mineOnly: true });
    const { key } = await repositoryKey(repoDir);
    const a = (await dumpRepository(killed.db, key)) as { changes: unknown[] };
    const b = (await dumpRepository(reference.db, key)) as { changes: unknown[] };
    expect(a.changes).toHaveLength(600);
    expect(a).toEqual(b);
    await killed.dispose();
    await reference.dispose();
  });
});
