import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { FlowgateError, isFlowgateError } from '../../core/errors.ts';
import type { Database } from '../../store/schema.ts';
import type { Tx } from '../../store/store.ts';
import { canonicalJson } from './canonical-json.ts';
import { leafHash, sha256 } from './merkle.ts';

/**
 * The append-only audit log. Each record is {seq, time, kind, subject, payload} written as RFC 8785
 * canonical JSON; its hash is SHA-256(previous hash || canonical bytes), so every record commits
 * to all the records before it. The Merkle tree over the same bytes backs signed checkpoints.
 */

/** The hash the first record chains to. */
export const genesisHash = '0'.repeat(64);

/** What a caller appends. `time` is Unix seconds (default: now). */
export interface AuditEntry {
  kind: string;
  subject: string;
  payload: unknown;
  time?: number;
}

/** A record as it is hashed. */
export interface AuditRecord {
  seq: number;
  time: number;
  kind: string;
  subject: string;
  payload: unknown;
}

/** A stored record with its canonical text and chain hashes. */
export interface StoredAuditRecord extends AuditRecord {
  /** The canonical JSON that was hashed. */
  record: string;
  prevHash: string;
  hash: string;
}

/** Hex SHA-256(prevHash bytes || record UTF-8 bytes). */
export function chainHash(prevHash: string, record: string): string {
  return sha256(Buffer.from(prevHash, 'hex'), Buffer.from(record, 'utf8')).toString('hex');
}

/** The Merkle leaf hash of a record's canonical text. */
export function recordLeafHash(record: string): Buffer {
  return leafHash(Buffer.from(record, 'utf8'));
}

/** True when the connection or transaction talks to PostgreSQL. */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Appends one record and returns its seq and hash. Appends are serialised: on PostgreSQL by a
 * transaction-level advisory lock, on SQLite by taking the write lock first. Pass a transaction to
 * make the record part of it (it is then only written if that transaction commits).
 */
export async function appendAudit(db: Kysely<Database> | Tx, entry: AuditEntry): Promise<{ seq: number; hash: string }> {
  const [appended] = await appendAuditBatch(db, [entry]);
  if (appended === undefined) throw new FlowgateError('INTERNAL', 'Appending one audit record returned none.');
  return appended;
}

/** Rows per INSERT: 7 values each stays far below SQLite's bound-parameter limit. */
const rowsPerInsert = 100;

/**
 * Appends records in the given order and returns each one's seq and hash, as that many
 * `appendAudit` calls would, but taking the lock and reading the chain's head once and inserting
 * all rows in one statement: a group-committed batch of decisions holds the lock for three
 * statements instead of three per record. All or none are written.
 */
export async function appendAuditBatch(db: Kysely<Database> | Tx, entries: readonly AuditEntry[]): Promise<{ seq: number; hash: string }[]> {
  const now = Math.floor(Date.now() / 1000);
  const checked = entries.map((entry) => {
    const time = entry.time ?? now;
    if (typeof entry.kind !== 'string' || entry.kind === '') throw new FlowgateError('USAGE', 'An audit entry needs a non-empty kind, e.g. "gate.decision".');
    if (typeof entry.subject !== 'string') throw new FlowgateError('USAGE', 'An audit entry needs a subject string, e.g. "owner/name#12@sha".');
    if (!Number.isSafeInteger(time) || time < 0) throw new FlowgateError('USAGE', `An audit entry's time must be Unix seconds, got ${String(time)}.`);
    // Fails here, before any lock is taken, when the payload has no canonical JSON form.
    canonicalJson(entry.payload);
    return { ...entry, time };
  });
  if (checked.length === 0) return [];

  const append = async (tx: Kysely<Database>): Promise<{ seq: number; hash: string }[]> => {
    await lockAppends(tx);
    const head = await tx.selectFrom('audit_records').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    let seq = head?.seq ?? 0;
    let prevHash = head?.hash ?? genesisHash;
    const rows = checked.map((entry) => {
      seq += 1;
      const record = canonicalJson({ seq, time: entry.time, kind: entry.kind, subject: entry.subject, payload: entry.payload });
      const hash = chainHash(prevHash, record);
      const row = { seq, time: entry.time, kind: entry.kind, subject: entry.subject, record, prev_hash: prevHash, hash };
      prevHash = hash;
      return row;
    });
    for (let i = 0; i < rows.length; i += rowsPerInsert) await tx.insertInto('audit_records').values(rows.slice(i, i + rowsPerInsert)).execute();
    return rows.map((r) => ({ seq: r.seq, hash: r.hash }));
  };
  try {
    return db.isTransaction ? await append(db) : await db.transaction().execute(append);
  } catch (error) {
    if (isFlowgateError(error)) throw error;
    throw new FlowgateError('STORE_FAILED', `Appending to the audit log failed: ${(error as Error).message}. Nothing was written; retry.`, { cause: error });
  }
}

async function lockAppends(tx: Kysely<Database>): Promise<void> {
  if (isPostgres(tx)) {
    // Per schema, so stores sharing one database don't wait on each other; released at commit or rollback.
    await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.flowgate.audit'))`.execute(tx);
    return;
  }
  // A write as the first statement takes SQLite's write lock now (waiting on busy_timeout), so the
  // head read next can't be overtaken by another process's append.
  await sql`update audit_records set seq = seq where 0`.execute(tx);
}

/** Reads records with from <= seq <= to, in seq order. */
export async function readAuditRecords(db: Kysely<Database>, range: { from?: number; to?: number } = {}): Promise<StoredAuditRecord[]> {
  let query = db.selectFrom('audit_records').selectAll().orderBy('seq');
  if (range.from !== undefined) query = query.where('seq', '>=', range.from);
  if (range.to !== undefined) query = query.where('seq', '<=', range.to);
  const rows = await query.execute();
  return rows.map((row) => ({
    seq: row.seq,
    time: row.time,
    kind: row.kind,
    subject: row.subject,
    payload: (JSON.parse(row.record) as { payload: unknown }).payload,
    record: row.record,
    prevHash: row.prev_hash,
    hash: row.hash,
  }));
}
