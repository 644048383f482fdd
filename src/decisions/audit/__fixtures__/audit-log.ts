import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../store/schema.ts';
import { appendAudit } from '../log.ts';

/** Appends `count` gate-decision-like records with varied payloads; times start at 1_700_000_000. */
export async function fillLog(db: Kysely<Database>, count: number, start = 1): Promise<void> {
  for (let i = start; i < start + count; i++) {
    await appendAudit(db, {
      kind: i % 3 === 0 ? 'gate.override' : 'gate.decision',
      subject: `acme/api#${i}@${(i * 7919).toString(16).padStart(8, '0')}`,
      payload: { outcome: i % 4 === 0 ? 'fail' : 'pass', tier: ['auto', 'light', 'standard', 'senior'][i % 4], risk: i / 100, reasons: [`rule-${i % 5}`] },
      time: 1_700_000_000 + i * 60,
    });
  }
}

/** Runs raw SQL the way an attacker with database access would: no flowgate code in between. */
export async function raw(db: Kysely<Database>, statement: string): Promise<void> {
  await sql.raw(statement).execute(db);
}

/** A fresh Ed25519 key pair. */
export function newKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}
