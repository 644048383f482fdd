import type { Generated, Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

/** One gate decision on one subject (a PR head or a commit). */
export interface DecisionTable {
  id: Generated<number>;
  repo_id: number | null;
  /** What was decided on: `owner/name#12@headsha`, or a commit sha. */
  subject: string;
  /** The gate's verdict, e.g. `pass`, `fail`, `pending`. */
  outcome: string;
  /** The review tier required (`auto`, `light`, `standard`, `senior`), when one was computed. */
  tier: string | null;
  /** JSON: the whole decision with its reasons and the policy in force. */
  decision: string;
  created_at: number;
}

/**
 * One record of the tamper-evident audit log (src/decisions/audit). `record` is the RFC 8785
 * canonical JSON of {seq, time, kind, subject, payload}; the other columns repeat its fields for
 * queries and are checked against it on verification.
 */
export interface AuditRecordTable {
  /** 1, 2, 3, ... with no gaps; the primary key. */
  seq: number;
  time: number;
  kind: string;
  subject: string;
  record: string;
  /** Hex SHA-256 of the previous record (64 zeros for the first). */
  prev_hash: string;
  /** Hex SHA-256(prev_hash bytes || record bytes). */
  hash: string;
}

/** A signed statement of the log's size, Merkle root and chain head at one time. */
export interface AuditCheckpointTable {
  id: Generated<number>;
  size: number;
  merkle_root: string;
  chain_head: string;
  time: number;
  /** First 16 hex digits of SHA-256 of the raw Ed25519 public key. */
  key_id: string;
  /** Raw 32-byte Ed25519 public key, base64. */
  public_key: string;
  /** Ed25519 signature over the canonical checkpoint statement, base64. */
  signature: string;
}

/** Tables for decisions, audit log, checkpoints (issue 4). */
export interface GateTables {
  decisions: DecisionTable;
  audit_records: AuditRecordTable;
  audit_checkpoints: AuditCheckpointTable;
}

/** Creates the gate's decisions table and the audit log's records and checkpoints. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const big = dialect.bigint;
  await dialect
    .addId(db.schema.createTable('decisions'))
    .addColumn('repo_id', 'integer')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('tier', 'text')
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('decisions_subject').on('decisions').column('subject').execute();
  await db.schema.createIndex('decisions_created').on('decisions').column('created_at').execute();

  // On SQLite an `integer` primary key is the rowid: no second index to keep in step or corrupt.
  await db.schema
    .createTable('audit_records')
    .addColumn('seq', big, (c) => c.primaryKey())
    .addColumn('time', big, (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('record', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_records_subject').on('audit_records').column('subject').execute();

  await dialect
    .addId(db.schema.createTable('audit_checkpoints'))
    .addColumn('size', big, (c) => c.notNull())
    .addColumn('merkle_root', 'text', (c) => c.notNull())
    .addColumn('chain_head', 'text', (c) => c.notNull())
    .addColumn('time', big, (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .execute();
}
