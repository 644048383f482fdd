import type { Kysely } from 'kysely';
import { appendAudit } from '../audit/log.ts';
import type { Database } from '../../store/schema.ts';
import type { Decision } from './types.ts';
import { findRepository } from '../../store/repositories.ts';

/**
 * Stores a decision in `decisions` and appends it to the audit log, atomically: either both are
 * written or neither. Given a transaction (`db.isTransaction`), both writes join it, so a caller
 * (the GitHub service) commits them together with its own rows, or rolls all back; given a
 * connection, they get a transaction of their own. `repoKey` finds the repository row (absolute
 * path or owner/name); an unknown key stores the decision with no repository.
 */
export async function recordDecision(db: Kysely<Database>, decision: Decision, subject: string, repoKey: string | null): Promise<{ id: number; seq: number }> {
  const write = async (tx: Kysely<Database>): Promise<{ id: number; seq: number }> => {
    const repo = repoKey === null ? undefined : await findRepository(tx, repoKey);
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
  };
  return db.isTransaction ? write(db) : db.transaction().execute(write);
}
