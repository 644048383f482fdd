import { appendAudit } from '../audit/log.ts';
import type { Store } from '../../store/store.ts';
import type { Decision } from './types.ts';

/**
 * Stores a decision in `decisions` and appends it to the audit log, in one transaction: either
 * both are written or neither. `repoKey` finds the repository row (absolute path or owner/name).
 */
export async function recordDecision(store: Store, decision: Decision, subject: string, repoKey: string | null): Promise<{ id: number; seq: number }> {
  return store.db.transaction().execute(async (tx) => {
    const repo = repoKey === null ? undefined : await tx.selectFrom('repositories').select('id').where('key', '=', repoKey).executeTakeFirst();
    const row = await tx
      .insertInto('decisions')
      .values({
        repo_id: repo?.id ?? null,
        subject,
        outcome: decision.outcome,
        tier: decision.tier,
        decision: JSON.stringify(decision),
        created_at: Math.floor(Date.now() / 1000),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const { seq } = await appendAudit(tx, { kind: 'gate.decision', subject, payload: { decisionId: row.id, ...decision } });
    return { id: row.id, seq };
  });
}
