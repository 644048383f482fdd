import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitStatusByCode } from '../../core/errors.ts';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { fillLog, raw } from './__fixtures__/audit-log.ts';
import { checkpoint } from './checkpoint.ts';
import { loadOrCreateSigningKey } from './keys.ts';

const bin = join(import.meta.dirname, '../../../bin/flowgate.js');

describe.each(storeKinds)('flowgate audit on %s', (kind) => {
  let store: TestStore;
  let dir: string;

  beforeEach(async () => {
    store = await openTestStore(kind);
    dir = mkdtempSync(join(tmpdir(), 'flowgate-audit-cli-'));
    await fillLog(store.db, 10);
  });
  afterEach(async () => {
    await store.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the real CLI as a child process against the test store, with its own config directory. */
  function flowgate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), FLOWGATE_AUDIT_KEY: '' };
    if (store.schema !== undefined) env['FLOWGATE_DB_SCHEMA'] = store.schema;
    const run = spawnSync(process.execPath, [bin, ...args, '--db', store.location], { encoding: 'utf8', env, timeout: 60_000 });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  it('verifies ok, then exits with AUDIT_TAMPERED naming the deleted record', async () => {
    const key = join(dir, 'audit.pem');
    const file = join(dir, 'checkpoints.jsonl');
    await checkpoint(store.db, loadOrCreateSigningKey(key), { toFile: file });
    const good = flowgate('audit', 'verify', '--checkpoints', file, '--public-key', key);
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(/ok: no tampering found/);

    await raw(store.db, 'delete from audit_records where seq = 4');
    const bad = flowgate('audit', 'verify', '--checkpoints', file, '--public-key', key, '--json');
    expect(bad.status).toBe(exitStatusByCode.AUDIT_TAMPERED);
    const report = JSON.parse(bad.stdout) as { ok: boolean; problems: { seq: number; kind: string }[] };
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(expect.arrayContaining([expect.objectContaining({ seq: 4, kind: 'missing' })]));
    expect(bad.stderr).toMatch(/failed verification.*seq 4.*\[AUDIT_TAMPERED\]/);
  });
});

describe('flowgate audit (SQLite)', () => {
  let store: TestStore;
  let dir: string;

  beforeEach(async () => {
    store = await openTestStore('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'flowgate-audit-cli-'));
    await fillLog(store.db, 10);
  });
  afterEach(async () => {
    await store.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  function flowgate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const env = { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), FLOWGATE_AUDIT_KEY: '' };
    const run = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env, timeout: 60_000 });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  it('publishes to a git ref and verifies against it, with the default key', () => {
    const repo = new RepoBuilder();
    try {
      const signed = flowgate('audit', 'checkpoint', '--db', store.location, '--to-ref', `${repo.dir}:refs/flowgate/audit`);
      expect(signed.status).toBe(0);
      expect(signed.stdout).toMatch(/committed [0-9a-f]{40} on refs\/flowgate\/audit/);
      expect(statSync(join(dir, 'config', 'flowgate', 'audit-ed25519.pem')).mode & 0o777).toBe(0o600);
      const verified = flowgate('audit', 'verify', '--db', store.location, '--ref', `${repo.dir}:refs/flowgate/audit`);
      expect(verified.status).toBe(0);
      expect(verified.stdout).toMatch(/1 in the store, 1 outside \(latest covers 10\)/);
    } finally {
      repo.dispose();
    }
  });

  it('exports records with proofs that a third party verifies offline, and catches an edited export', async () => {
    const key = join(dir, 'audit.pem');
    await checkpoint(store.db, loadOrCreateSigningKey(key));
    const exported = flowgate('audit', 'export', '--db', store.location, '--from', '3', '--to', '6');
    expect(exported.status).toBe(0);
    const lines = exported.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'tree', size: 10, checkpoint: { size: 10 } });
    expect(JSON.parse(lines[1]!)).toMatchObject({ type: 'record', seq: 3, leafIndex: 2 });
    const file = join(dir, 'export.jsonl');
    writeFileSync(file, exported.stdout);
    const offline = flowgate('audit', 'verify', '--export', file, '--public-key', key);
    expect(offline.stdout).toMatch(/4 exported record\(s\), proved against a signed tree of 10/);
    expect(offline.status).toBe(0);

    // Edit one exported record and recompute its chain hash: only the Merkle proof can tell.
    const record = JSON.parse(lines[2]!) as { record: string };
    writeFileSync(file, exported.stdout.replace(record.record.replaceAll('"', '\\"'), record.record.replace('gate.', 'gat3.').replaceAll('"', '\\"')));
    const edited = flowgate('audit', 'verify', '--export', file, '--public-key', key, '--json');
    expect(edited.status).toBe(exitStatusByCode.AUDIT_TAMPERED);
    expect((JSON.parse(edited.stdout) as { problems: { seq: number }[] }).problems.map((p) => p.seq)).toContain(4);
  });

  it('names bad flags with the usage exit status', () => {
    const badSeq = flowgate('audit', 'export', '--db', store.location, '--from', 'abc');
    expect(badSeq.status).toBe(exitStatusByCode.USAGE);
    expect(badSeq.stderr).toMatch(/--from expects a record number/);
    const missing = flowgate('audit', 'verify', '--db', store.location, '--checkpoints', join(dir, 'none.jsonl'));
    expect(missing.status).toBe(exitStatusByCode.NOT_FOUND);
    expect(missing.stderr).toMatch(/No checkpoint file/);
  });
});
