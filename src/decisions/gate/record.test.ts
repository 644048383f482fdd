import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureRepository } from '../../store/repositories.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import type { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { readAuditRecords } from '../audit/log.ts';
import { verifyAudit } from '../audit/verify.ts';
import { branchWith, decideIn, gateRepo } from './__fixtures__/gate-repo.ts';
import { recordDecision } from './record.ts';
import type { Decision } from './types.ts';

describe.each(storeKinds)('recordDecision on %s', (kind) => {
  let repo: RepoBuilder;
  let decision: Decision;
  let store: TestStore | undefined;
  beforeAll(async () => {
    repo = gateRepo();
    decision = await decideIn(repo, branchWith(repo, 'x', { 'src/util.ts': 'export const one = 2;\n' }));
  });
  afterAll(() => repo.dispose());
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it("writes the decision and its audit record inside the caller's transaction: both with the caller's rows, or none", async () => {
    store = await openTestStore(kind);
    const subject = `acme/api#3@${decision.head}`;
    // The caller's own row (the service writes its pull request state) rolls back with the decision.
    await expect(
      store.db.transaction().execute(async (tx) => {
        await ensureRepository(tx, 'acme/api', null, 'main');
        await recordDecision(tx, decision, subject, 'acme/api');
        throw new Error('publishing failed');
      }),
    ).rejects.toThrow('publishing failed');
    expect(await store.db.selectFrom('decisions').selectAll().execute()).toEqual([]);
    expect(await readAuditRecords(store.db)).toEqual([]);
    expect(await store.db.selectFrom('repositories').selectAll().execute()).toEqual([]);

    const written = await store.db.transaction().execute(async (tx) => {
      const repoRow = await ensureRepository(tx, 'acme/api', null, 'main');
      // The decision sees the repository row the same transaction just wrote.
      return { repoId: repoRow.id, ...(await recordDecision(tx, decision, subject, 'acme/api')) };
    });
    const rows = await store.db.selectFrom('decisions').selectAll().execute();
    expect(rows).toEqual([expect.objectContaining({ id: written.id, repo_id: written.repoId, subject, outcome: decision.outcome, tier: decision.tier })]);
    const audit = await readAuditRecords(store.db);
    expect(audit.map((r) => [r.seq, r.kind, r.subject])).toEqual([[written.seq, 'gate.decision', subject]]);
    expect(audit[0]?.payload).toMatchObject({ decisionId: written.id, head: decision.head, tier: decision.tier });
    expect((await verifyAudit(store.db)).ok).toBe(true);
  });

  it('opens its own transaction when given a connection, and keeps the chain whole under parallel writers', async () => {
    store = await openTestStore(kind);
    const db = store.db;
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => recordDecision(db, decision, `${decision.head}:${i}`, null)));
    expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    const rows = await db.selectFrom('decisions').select(['id', 'repo_id']).execute();
    expect(rows).toHaveLength(6);
    expect(rows.every((r) => r.repo_id === null)).toBe(true);
    expect((await verifyAudit(db)).ok).toBe(true);
  });
});
