import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

/** pr_decisions rows point at the gate's `decisions` row written in the same transaction (issue 6). */
export interface ServiceDecisionColumns {
  /** The gate's `decisions.id` of this decision; null for rows written before 0006. */
  decision_id: number | null;
}

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema.alterTable('pr_decisions').addColumn('decision_id', dialect.bigint).execute();
  await db.schema.createIndex('pr_decisions_decision').on('pr_decisions').column('decision_id').execute();
}
