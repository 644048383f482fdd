import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

/** The recorded result of a side effect already done under `key`, or undefined when it was not. */
export async function effectResult(db: Kysely<Database>, key: string): Promise<unknown> {
  const row = await db.selectFrom('side_effects').select('result').where('key', '=', key).executeTakeFirst();
  return row === undefined ? undefined : JSON.parse(row.result);
}

/**
 * Records that the side effect `key` happened, with its result; call it in the transaction that
 * stores what the effect produced. False when another run recorded it first (its result stands).
 */
export async function recordEffect(db: Kysely<Database>, key: string, kind: string, result: unknown): Promise<boolean> {
  const inserted = await db
    .insertInto('side_effects')
    .values({ key, kind, result: JSON.stringify(result ?? null), created_at: Math.floor(Date.now() / 1000) })
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst();
  return (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n;
}
