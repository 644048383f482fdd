import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

/** Tables for decisions, audit log, checkpoints (issue 4). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface GateTables {}

export async function up(_db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  // Filled in by the module that owns these tables.
}
