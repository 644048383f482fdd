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

/** Runs `flowgate analyze` and kills it with SIGKILL after `afterMs`; resolves with the exit signal or code. */
function analyzeAndKill(repo: string, store: TestStore, afterMs: number | null): Promise<string> {
  return new Promise((done, fail) => {
    const env = { ...process.env, CI: 'true', ...(store.schema === undefined ? {} : { FLOWGATE_DB_SCHEMA: store.schema }) };
    const child = spawn(process.execPath, [cli, 'analyze', repo, '--db', store.location, '--no-report', '--no-steps', '--batch-size', '7', '--json'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = afterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      if (timer !== null) clearTimeout(timer);
      if (afterMs === null && code !== 0) fail(new Error(`analyze failed (${code}): ${stderr}`));
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
    // A seeded sequence of kill points, from before the first batch to mid-run.
    let seed = kind === 'sqlite' ? 7 : 11;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const signals: string[] = [];
    for (let i = 0; i < 4; i += 1) signals.push(await analyzeAndKill(repoDir, killed, 600 + Math.floor(random() * 1800)));
    expect(signals).toContain('SIGKILL');
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
