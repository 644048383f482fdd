import { afterEach, describe, expect, it } from 'vitest';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { fillLog } from './__fixtures__/audit-log.ts';
import { canonicalJson } from './canonical-json.ts';
import { appendAudit, appendAuditBatch, chainHash, genesisHash, readAuditRecords } from './log.ts';
import { verifyAudit } from './verify.ts';

describe.each(storeKinds)('audit log on %s', (kind) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it('chains canonical records from the genesis hash', async () => {
    store = await openTestStore(kind);
    const first = await appendAudit(store.db, { kind: 'gate.decision', subject: 'acme/api#1@abc', payload: { z: 1, a: [true, null] }, time: 1_700_000_000 });
    const second = await appendAudit(store.db, { kind: 'gate.decision', subject: 'acme/api#2@def', payload: 'pass', time: 1_700_000_060 });
    expect(first.seq).toBe(1);
    expect(second.seq).toBe(2);
    const records = await readAuditRecords(store.db);
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    const [r1, r2] = records as [(typeof records)[number], (typeof records)[number]];
    expect(r1.record).toBe('{"kind":"gate.decision","payload":{"a":[true,null],"z":1},"seq":1,"subject":"acme/api#1@abc","time":1700000000}');
    expect(r1.prevHash).toBe(genesisHash);
    expect(r1.hash).toBe(chainHash(genesisHash, r1.record));
    expect(r2.prevHash).toBe(r1.hash);
    expect(r2.hash).toBe(second.hash);
    expect(r1.payload).toEqual({ z: 1, a: [true, null] });
  });

  it('writes inside a caller transaction only when it commits', async () => {
    store = await openTestStore(kind);
    await fillLog(store.db, 2);
    await expect(
      store.db.transaction().execute(async (tx) => {
        await appendAudit(tx, { kind: 'gate.decision', subject: 'x', payload: {} });
        throw new Error('the decision failed after auditing');
      }),
    ).rejects.toThrow('the decision failed');
    expect((await readAuditRecords(store.db)).length).toBe(2);
    const written = await store.db.transaction().execute(async (tx) => {
      await tx.insertInto('decisions').values({ repo_id: null, subject: 'x', outcome: 'pass', tier: 'auto', decision: '{}', created_at: 1 }).execute();
      return appendAudit(tx, { kind: 'gate.decision', subject: 'x', payload: { outcome: 'pass' } });
    });
    expect(written.seq).toBe(3);
    expect((await verifyAudit(store.db)).ok).toBe(true);
  });

  it('serialises parallel appenders into one gap-free chain', async () => {
    store = await openTestStore(kind);
    const db = store.db;
    const appender = async (worker: number): Promise<number[]> => {
      const seqs: number[] = [];
      for (let i = 0; i < 50; i++) {
        // Half the appends ride in a caller's transaction, as the gate's will.
        const entry = { kind: 'gate.decision', subject: `w${worker}-${i}`, payload: { worker, i } };
        const { seq } = i % 2 === 0 ? await appendAudit(db, entry) : await db.transaction().execute((tx) => appendAudit(tx, entry));
        seqs.push(seq);
      }
      return seqs;
    };
    const results = await Promise.all([0, 1, 2, 3].map(appender));
    const all = results.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const verification = await verifyAudit(db);
    expect(verification.problems).toEqual([]);
    expect(verification.size).toBe(200);
  });

  it('refuses entries it cannot canonicalise, and writes nothing', async () => {
    store = await openTestStore(kind);
    await expect(appendAudit(store.db, { kind: 'gate.decision', subject: 'x', payload: { risk: Number.NaN } })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('$.risk') as unknown,
    });
    await expect(appendAudit(store.db, { kind: '', subject: 'x', payload: 1 })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(appendAudit(store.db, { kind: 'k', subject: 'x', payload: 1, time: 1.5 })).rejects.toMatchObject({ code: 'USAGE' });
    expect(await readAuditRecords(store.db)).toEqual([]);
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });
  it('appends a batch as that many single appends would, interleaved with other appenders, all or none', async () => {
    store = await openTestStore(kind);
    const db = store.db;
    const entries = (tag: string, n: number) => Array.from({ length: n }, (_, i) => ({ kind: 'gate.decision', subject: `${tag}-${i}`, payload: { tag, i }, time: 1_700_000_000 + i }));
    await appendAudit(db, { kind: 'gate.decision', subject: 'first', payload: 1, time: 1_700_000_000 });
    // 150 rows: more than one INSERT statement's worth.
    const batch = await db.transaction().execute((tx) => appendAuditBatch(tx, entries('b', 150)));
    expect(batch.map((b) => b.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 2));
    const records = await readAuditRecords(db);
    expect(records.map((r) => r.subject)).toEqual(['first', ...entries('b', 150).map((e) => e.subject)]);
    // The same records, hashes and links as appending them one by one.
    const single = await openTestStore(kind);
    try {
      await appendAudit(single.db, { kind: 'gate.decision', subject: 'first', payload: 1, time: 1_700_000_000 });
      for (const entry of entries('b', 150)) await appendAudit(single.db, entry);
      const one = await readAuditRecords(single.db);
      expect(records.map((r) => [r.record, r.prevHash, r.hash])).toEqual(one.map((r) => [r.record, r.prevHash, r.hash]));
    } finally {
      await single.dispose();
    }
    expect(batch.at(-1)?.hash).toBe(records.at(-1)?.hash);

    // Batches and single appends from parallel writers still make one gap-free chain.
    await Promise.all([
      (async () => {
        for (let i = 0; i < 10; i++) await db.transaction().execute((tx) => appendAuditBatch(tx, entries(`p${i}`, 5)));
      })(),
      (async () => {
        for (let i = 0; i < 20; i++) await appendAudit(db, { kind: 'gate.decision', subject: `s${i}`, payload: i });
      })(),
    ]);
    const verification = await verifyAudit(db);
    expect(verification.problems).toEqual([]);
    expect(verification.size).toBe(151 + 50 + 20);

    // One entry without a canonical form refuses the whole batch before anything is written.
    await expect(appendAuditBatch(db, [{ kind: 'k', subject: 'ok', payload: 1 }, { kind: 'k', subject: 'bad', payload: { risk: Number.NaN } }])).rejects.toMatchObject({ code: 'USAGE' });
    expect(await appendAuditBatch(db, [])).toEqual([]);
    expect((await verifyAudit(db)).size).toBe(221);
  });
});
