import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { fillLog, newKey, raw } from './__fixtures__/audit-log.ts';
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

const recordColumns = ['seq', 'time', 'kind', 'subject', 'record', 'prev_hash', 'hash'] as const;
const checkpointColumns = ['size', 'merkle_root', 'chain_head', 'time', 'key_id', 'public_key', 'signature'] as const;

/** One bit of one value flipped: a number's low bits, or one character of a text (kept non-NUL). */
function flip(value: unknown, next: () => number): string | number {
  if (typeof value === 'number') return value ^ (1 << Math.floor(next() * 12));
  const text = String(value);
  const at = Math.floor(next() * text.length);
  const code = text.charCodeAt(at);
  let mask = 1 << Math.floor(next() * 7);
  if ((code ^ mask) === 0) mask = 1;
  return text.slice(0, at) + String.fromCharCode(code ^ mask) + text.slice(at + 1);
}

// The byte-level test (corruption.test.ts) flips bytes of the SQLite file; a PostgreSQL store's files
// are not ours to flip, so on both engines each stored value of the log is hit directly, bit by bit.
describe.each(storeKinds)('random corruption of stored audit values on %s', (kind) => {
  let store: TestStore;
  let dir: string;
  const key = newKey();
  const publicKey = createPublicKey(key);
  beforeEach(async () => {
    store = await openTestStore(kind);
    dir = mkdtempSync(join(tmpdir(), 'flowgate-tamper-'));
    await fillLog(store.db, 20);
    await checkpoint(store.db, key, { toFile: join(dir, 'checkpoints.jsonl'), time: 1_700_100_000 });
  });
  afterEach(async () => {
    await store.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const verify = () => verifyAudit(store.db, { checkpoints: { file: join(dir, 'checkpoints.jsonl') }, publicKey });

  it('finds an edit of the subject, prev_hash or hash column alone', async () => {
    expect((await verify()).ok).toBe(true);
    await raw(store.db, `update audit_records set subject = 'acme/api#1@00000000' where seq = 4`);
    await raw(store.db, `update audit_records set prev_hash = '${'1'.repeat(64)}' where seq = 9`);
    await raw(store.db, `update audit_records set hash = '${'2'.repeat(64)}' where seq = 14`);
    const result = await verify();
    expect(result.problems.map((p) => `${p.kind}@${String(p.seq)}`)).toEqual(expect.arrayContaining(['field-mismatch@4', 'chain-broken@9', 'hash-mismatch@14']));
  });

  it('never passes a log with one bit flipped in any value of any record or store checkpoint', async () => {
    expect((await verify()).ok).toBe(true);
    const missed: string[] = [];
    // Every column of both tables is hit several times (seed % 7 picks it); rows, bits and characters at random.
    for (let seed = 1; seed <= 42; seed++) {
      const next = random(seed);
      const inCheckpoint = seed % 3 === 0;
      const column = inCheckpoint ? checkpointColumns[seed % 7] : recordColumns[seed % 7];
      const what = inCheckpoint ? `checkpoint ${String(column)}` : `record ${String(column)}`;
      // Each seed corrupts a fresh copy of the same log: undo by rewriting the original value afterwards.
      if (inCheckpoint) {
        const row = await store.db.selectFrom('audit_checkpoints').selectAll().executeTakeFirstOrThrow();
        const col = column as (typeof checkpointColumns)[number];
        const original = row[col];
        await store.db.updateTable('audit_checkpoints').set({ [col]: flip(original, next) }).where('id', '=', row.id).execute();
        if ((await verify()).ok) missed.push(`seed ${seed}: ${what}`);
        await store.db.updateTable('audit_checkpoints').set({ [col]: original }).where('id', '=', row.id).execute();
      } else {
        const seq = 1 + Math.floor(next() * 20);
        const row = await store.db.selectFrom('audit_records').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();
        const col = column as (typeof recordColumns)[number];
        const original = row[col];
        let changed = flip(original, next);
        // A flipped seq that lands on another record's seq would break the primary key, not the log.
        while (col === 'seq' && typeof changed === 'number' && changed >= 1 && changed <= 20) changed = flip(original, next);
        await store.db.updateTable('audit_records').set({ [col]: changed }).where('seq', '=', seq).execute();
        if ((await verify()).ok) missed.push(`seed ${seed}: ${what} of ${seq}`);
        await store.db.updateTable('audit_records').set({ [col]: original }).where('seq', '=', col === 'seq' ? Number(changed) : seq).execute();
      }
      expect((await verify()).ok, `seed ${seed}: restoring ${what}`).toBe(true);
    }
    expect(missed).toEqual([]);
  });
});
