import { createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { fillLog, newKey, raw } from './__fixtures__/audit-log.ts';
import { canonicalJson } from './canonical-json.ts';
import { checkpoint } from './checkpoint.ts';
import { parseRefSpec, readCheckpointFile } from './checkpoint-io.ts';
import { chainHash, readAuditRecords } from './log.ts';
import { verifyAudit, type AuditProblemKind } from './verify.ts';

const kinds = (result: { problems: { kind: AuditProblemKind; seq: number | null }[] }): string[] =>
  result.problems.map((p) => `${p.kind}@${String(p.seq)}`);

describe.each(storeKinds)('verifyAudit on %s', (storeKind) => {
  let store: TestStore;
  let dir: string;
  const key = newKey();
  const publicKey = createPublicKey(key);
  let file: string;

  beforeEach(async () => {
    store = await openTestStore(storeKind);
    dir = mkdtempSync(join(tmpdir(), 'flowgate-audit-'));
    file = join(dir, 'checkpoints.jsonl');
    await fillLog(store.db, 12);
  });
  afterEach(async () => {
    await store.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  // Tests that wrote no checkpoint verify the records alone.
  const verify = () => verifyAudit(store.db, { checkpoints: existsSync(file) ? { file } : undefined, publicKey });

  it('passes an untouched log with its checkpoints, and says what it could not prove', async () => {
    await checkpoint(store.db, key, { toFile: file, time: 1_700_100_000 });
    await fillLog(store.db, 3, 13);
    await checkpoint(store.db, key, { toFile: file, time: 1_700_200_000 });
    await fillLog(store.db, 2, 16);
    const result = await verify();
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.size).toBe(17);
    expect(result.checkpoints).toMatchObject({ store: 2, external: 2, latestExternal: { size: 15 } });
    expect(result.warnings.join(' ')).toMatch(/2 record\(s\) after the latest external checkpoint/);
    const bare = await verifyAudit(store.db);
    expect(bare.ok).toBe(true);
    expect(bare.warnings.join(' ')).toMatch(/No external checkpoint/);
  });

  it('finds a record whose payload was edited in place', async () => {
    await raw(store.db, `update audit_records set record = replace(record, '"outcome":"fail"', '"outcome":"pass"') where seq = 4`);
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(kinds(result)).toEqual(['hash-mismatch@4']);
    expect(result.problems[0]?.message).toMatch(/edited/);
  });

  it('finds an edited time or kind column, and an edit whose hash was recomputed', async () => {
    await raw(store.db, 'update audit_records set time = time + 1 where seq = 2');
    await raw(store.db, `update audit_records set kind = 'gate.pass' where seq = 3`);
    expect(kinds(await verify())).toEqual(['field-mismatch@2', 'field-mismatch@3']);
    const [row] = await readAuditRecords(store.db, { from: 7, to: 7 });
    const forged = row!.record.replace('"kind":"gate.decision"', '"kind":"gate.override"');
    await raw(store.db, `update audit_records set record = '${forged}', kind = 'gate.override', hash = '${chainHash(row!.prevHash, forged)}' where seq = 7`);
    const result = await verify();
    expect(kinds(result)).toContain('chain-broken@8');
  });

  it('finds a deleted record', async () => {
    await raw(store.db, 'delete from audit_records where seq = 5');
    const result = await verify();
    expect(kinds(result)).toEqual(['missing@5', 'chain-broken@6']);
    expect(result.problems[0]?.message).toMatch(/record 5 is missing/);
  });

  it('finds two records whose seqs were swapped', async () => {
    await raw(store.db, 'update audit_records set seq = -5 where seq = 5');
    await raw(store.db, 'update audit_records set seq = 5 where seq = 6');
    await raw(store.db, 'update audit_records set seq = 6 where seq = -5');
    const result = await verify();
    expect(kinds(result)).toEqual(['chain-broken@5', 'seq-mismatch@5', 'chain-broken@6', 'seq-mismatch@6', 'chain-broken@7']);
    expect(result.problems[1]?.message).toMatch(/stored at seq 5 but the hashed record says seq 6/);
  });

  it('finds a forged record inserted in the middle, even with a valid hash of its own', async () => {
    await raw(store.db, 'update audit_records set seq = seq + 1000 where seq >= 5');
    await raw(store.db, 'update audit_records set seq = seq - 999 where seq >= 1005');
    const [before] = await readAuditRecords(store.db, { from: 4, to: 4 });
    const record = canonicalJson({ seq: 5, time: 1_700_000_290, kind: 'gate.decision', subject: 'acme/api#999@deadbeef', payload: { outcome: 'pass' } });
    const hash = chainHash(before!.hash, record);
    await raw(
      store.db,
      `insert into audit_records (seq, time, kind, subject, record, prev_hash, hash) values (5, 1700000290, 'gate.decision', 'acme/api#999@deadbeef', '${record}', '${before!.hash}', '${hash}')`,
    );
    const result = await verify();
    expect(kinds(result)).toContain('chain-broken@6');
    expect(kinds(result)).toContain('seq-mismatch@6');
    expect(kinds(result)).not.toContain('hash-mismatch@5');
  });

  it('finds a truncated tail against the external checkpoint, though the store checkpoints went too', async () => {
    await checkpoint(store.db, key, { toFile: file });
    await raw(store.db, 'delete from audit_records where seq > 9');
    await raw(store.db, 'delete from audit_checkpoints');
    expect((await verifyAudit(store.db, { publicKey })).ok).toBe(true);
    const result = await verify();
    expect(kinds(result)).toEqual(['truncated@10']);
    expect(result.problems[0]?.message).toMatch(/covers 12 records but the store holds 9/);
  });

  it('finds a rewrite of the whole chain after a checkpoint, by its Merkle root', async () => {
    await checkpoint(store.db, key, { toFile: file });
    // Someone with database access but without the key rewrites record 3 and re-chains every later record.
    const records = await readAuditRecords(store.db);
    let prev = records[1]!.hash;
    for (const r of records.slice(2)) {
      const text = r.seq === 3 ? r.record.replace('"outcome":"pass"', '"outcome":"fail"') : r.record;
      const hash = chainHash(prev, text);
      await raw(store.db, `update audit_records set record = '${text}', prev_hash = '${prev}', hash = '${hash}' where seq = ${r.seq}`);
      prev = hash;
    }
    const result = await verify();
    expect(result.problems.map((p) => p.kind)).toEqual(['checkpoint-mismatch', 'checkpoint-mismatch']);
    expect(result.problems[0]?.message).toMatch(/Merkle root of the first 12 records differs/);
  });

  it('finds a forged or foreign-signed checkpoint', async () => {
    await checkpoint(store.db, key, { toFile: file });
    const line = JSON.parse(readFileSync(file, 'utf8')) as { size: number; signature: string };
    const forged = { ...line, size: 40 };
    writeFileSync(file, `${JSON.stringify(line)}\n${JSON.stringify(forged)}\n`);
    let result = await verify();
    expect(kinds(result)).toEqual(['checkpoint-signature@null']);
    expect(result.problems[0]?.message).toMatch(/signature does not verify/);

    // A checkpoint well signed, but by a key the verifier does not trust.
    const other = newKey();
    writeFileSync(file, '');
    await checkpoint(store.db, other, { toFile: file });
    result = await verify();
    // The same checkpoint sits in the store and the file: reported once.
    expect(result.problems.map((p) => p.kind)).toEqual(['checkpoint-untrusted']);
    expect(result.problems[0]?.message).toMatch(/not by the trusted key/);
  });

  it('proves consecutive checkpoints consistent, and catches a rolled-back one', async () => {
    await checkpoint(store.db, key, { toFile: file, time: 1_700_100_000 });
    await fillLog(store.db, 4, 13);
    await checkpoint(store.db, key, { toFile: file, time: 1_700_200_000 });
    expect((await verify()).ok).toBe(true);
    // A newer checkpoint that claims a smaller log than an older one.
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    writeFileSync(file, `${lines[1]!}\n`);
    await raw(store.db, 'delete from audit_checkpoints');
    await checkpoint(store.db, key, { toFile: file, time: 1_700_300_000 });
    await raw(store.db, 'delete from audit_records where seq > 12');
    await raw(store.db, 'delete from audit_checkpoints');
    const { checkpoint: rolledBack } = await checkpoint(store.db, key, { time: 1_700_400_000 });
    expect(rolledBack.size).toBe(12);
    const result = await verify();
    expect(result.problems.map((p) => p.kind)).toEqual(expect.arrayContaining(['truncated', 'checkpoint-inconsistent']));
  });

  it('refuses to sign a checkpoint for a tampered log', async () => {
    await raw(store.db, `update audit_records set subject = 'acme/api#1@forged' where seq = 1`);
    await expect(checkpoint(store.db, key)).rejects.toMatchObject({ code: 'AUDIT_TAMPERED', message: expect.stringContaining('seq 1') as unknown });
    expect(await store.db.selectFrom('audit_checkpoints').selectAll().execute()).toEqual([]);
  });

  it('reports unreadable checkpoint lines', async () => {
    await checkpoint(store.db, key, { toFile: file });
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"size": "many"}\nnot json\n`);
    const result = await verify();
    expect(result.problems.map((p) => p.kind)).toEqual(['checkpoint-unreadable', 'checkpoint-unreadable']);
    expect(readCheckpointFile(file).checkpoints).toHaveLength(1);
  });
});

describe('checkpoints under a git ref', () => {
  it('commits each checkpoint on refs/flowgate/audit and verifies against them', async () => {
    const store = await openTestStore('sqlite');
    const repo = new RepoBuilder();
    try {
      const key = newKey();
      await fillLog(store.db, 5);
      const target = parseRefSpec(`${repo.dir}:refs/flowgate/audit`);
      const first = await checkpoint(store.db, key, { toRef: target });
      await fillLog(store.db, 5, 6);
      const second = await checkpoint(store.db, key, { toRef: target });
      expect(repo.git('rev-parse', 'refs/flowgate/audit').trim()).toBe(second.commit);
      expect(repo.git('rev-parse', 'refs/flowgate/audit^').trim()).toBe(first.commit);
      expect(JSON.parse(repo.git('cat-file', 'blob', 'refs/flowgate/audit:checkpoint.json'))).toMatchObject({ size: 10 });
      // The work tree and HEAD are untouched.
      expect(repo.git('status', '--porcelain')).toBe('');
      const publicKey = createPublicKey(key);
      expect((await verifyAudit(store.db, { checkpoints: target, publicKey })).ok).toBe(true);
      await raw(store.db, 'delete from audit_records where seq = 10');
      const result = await verifyAudit(store.db, { checkpoints: target, publicKey });
      expect(result.problems.map((p) => p.kind)).toEqual(['truncated']);
    } finally {
      await store.dispose();
      repo.dispose();
    }
  });

  it('names a path that is not a repository', async () => {
    const store = await openTestStore('sqlite');
    try {
      await expect(verifyAudit(store.db, { checkpoints: { repo: tmpdir(), ref: 'refs/flowgate/audit' } })).rejects.toMatchObject({ code: 'NOT_A_REPOSITORY' });
      expect(() => parseRefSpec('repo:main')).toThrow(/<repo>:<ref>/);
    } finally {
      await store.dispose();
    }
  });
});
