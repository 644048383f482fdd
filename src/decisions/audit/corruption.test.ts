import { createPublicKey } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFlowgateError } from '../../core/errors.ts';
import { openStore } from '../../store/store.ts';
import { fillLog, newKey } from './__fixtures__/audit-log.ts';
import { checkpoint } from './checkpoint.ts';
import { verifyAudit } from './verify.ts';

/** A small deterministic generator, so a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

type Outcome = 'ok' | 'problems' | 'store-error';

describe('random byte corruption of the SQLite store file', () => {
  const key = newKey();
  const publicKey = createPublicKey(key);
  let dir: string;
  let base: string;
  let checkpoints: string;
  let baseDump: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-corrupt-'));
    base = join(dir, 'base.db');
    checkpoints = join(dir, 'checkpoints.jsonl');
    const store = await openStore({ url: base });
    await fillLog(store.db, 150);
    await checkpoint(store.db, key, { toFile: checkpoints });
    // Closing the last connection folds the WAL into the file: every byte of the log is in base.db.
    await store.close();
    baseDump = auditDump(base);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What `flowgate audit verify` would conclude about a copy of the store with these bytes flipped. */
  async function verifyCorrupted(name: string, flips: { offset: number; mask: number }[]): Promise<{ outcome: Outcome; file: string }> {
    const file = join(dir, `${name}.db`);
    copyFileSync(base, file);
    const bytes = readFileSync(file);
    for (const { offset, mask } of flips) bytes[offset] = (bytes[offset] ?? 0) ^ mask;
    writeFileSync(file, bytes);
    try {
      const store = await openStore({ url: file });
      try {
        const result = await verifyAudit(store.db, { checkpoints: { file: checkpoints }, publicKey });
        return { outcome: result.ok ? 'ok' : 'problems', file };
      } finally {
        await store.close();
      }
    } catch (error) {
      // Anything else thrown would be a bug: only a clear store error is an acceptable answer.
      if (isFlowgateError(error) && error.code.startsWith('STORE_')) return { outcome: 'store-error', file };
      throw error;
    }
  }

  it('never passes a store whose audit records were hit', async () => {
    // Offsets inside the bytes of stored records (their canonical text and hashes): the log's data itself.
    const bytes = readFileSync(base);
    const targets: number[] = [];
    const db = new Database(base, { readonly: true });
    for (const row of db.prepare('select record, hash from audit_records').all() as { record: string; hash: string }[]) {
      for (const text of [row.record, row.hash]) {
        const at = bytes.indexOf(Buffer.from(text, 'utf8'));
        if (at >= 0) targets.push(...Array.from({ length: text.length }, (_, i) => at + i));
      }
    }
    db.close();
    expect(targets.length).toBeGreaterThan(150 * 100);
    for (let seed = 1; seed <= 12; seed++) {
      const next = random(seed);
      const flips = Array.from({ length: 1 + (seed % 3) }, () => ({ offset: targets[Math.floor(next() * targets.length)] ?? 0, mask: 1 << Math.floor(next() * 8) }));
      const { outcome } = await verifyCorrupted(`records-${seed}`, flips);
      expect(outcome, `seed ${seed}: flips ${JSON.stringify(flips)}`).not.toBe('ok');
    }
  });

  it('never passes a store whose audit data changed, wherever in the file the bytes flip', async () => {
    const size = statSync(base).size;
    const seen: Record<Outcome | 'ok-unchanged', number> = { ok: 0, problems: 0, 'store-error': 0, 'ok-unchanged': 0 };
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(1000 + seed);
      const flips = Array.from({ length: seed % 4 === 0 ? 8 : 1 }, () => ({ offset: Math.floor(next() * size), mask: 1 << Math.floor(next() * 8) }));
      const { outcome, file } = await verifyCorrupted(`anywhere-${seed}`, flips);
      if (outcome !== 'ok') {
        seen[outcome]++;
        continue;
      }
      // Most of a SQLite file is free space inside pages; a flip there changes no stored value and
      // SQLite keeps no checksum over it. "ok" is then the truth, and only then is it allowed.
      expect(auditDump(file), `seed ${1000 + seed}: "ok" for a store whose audit data changed (flips ${JSON.stringify(flips)})`).toBe(baseDump);
      seen['ok-unchanged']++;
    }
    expect(seen.problems + seen['store-error']).toBeGreaterThan(5);
  });
});

/** Every stored value of the audit tables and their schema, read straight from the file. */
function auditDump(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const schema = db.prepare(`select name, sql from sqlite_schema where tbl_name like 'audit_%' order by name`).all();
    const records = db.prepare('select * from audit_records order by rowid').all();
    const checkpoints = db.prepare('select * from audit_checkpoints order by rowid').all();
    return JSON.stringify({ schema, records, checkpoints });
  } catch (error) {
    return `unreadable: ${(error as Error).message}`;
  } finally {
    db.close();
  }
}
