import type { KeyObject } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { FlowgateError, isFlowgateError } from '../../core/errors.ts';
import type { Database } from '../../store/schema.ts';
import { canonicalJson } from './canonical-json.ts';
import {
  checkpointSignatureProblem,
  readCheckpointSource,
  SignedCheckpoint,
  type CheckpointSource,
  type ExternalCheckpoints,
} from './checkpoint-io.ts';
import { chainHash, genesisHash, isPostgres, recordLeafHash } from './log.ts';
import { merkleTree, verifyConsistency, type MerkleTree } from './merkle.ts';

/** What kind of damage a problem is. */
export type AuditProblemKind =
  | 'missing' // a gap in seq: records were deleted
  | 'chain-broken' // prev_hash does not match the record before: deleted, inserted or reordered records
  | 'hash-mismatch' // the record's text does not match its hash: edited
  | 'field-mismatch' // a column (time, kind, subject) disagrees with the hashed record: edited
  | 'seq-mismatch' // the row's seq disagrees with the hashed record: reordered or renumbered
  | 'not-canonical' // the stored text is not the canonical JSON it was hashed as
  | 'truncated' // a checkpoint covers more records than the store holds
  | 'checkpoint-mismatch' // the store's Merkle root or chain head at a checkpoint's size differs from it
  | 'checkpoint-inconsistent' // two checkpoints are not one growing log
  | 'checkpoint-signature' // a checkpoint's signature does not verify
  | 'checkpoint-untrusted' // a checkpoint signed by another key than the trusted one
  | 'checkpoint-unreadable' // an external checkpoint that could not be parsed
  | 'store-corrupt'; // the database engine reports damage

/** One thing wrong, at the seq it concerns (null when it concerns no one record). */
export interface AuditProblem {
  seq: number | null;
  kind: AuditProblemKind;
  message: string;
}

/** The outcome of verifying the audit log. */
export interface AuditVerification {
  ok: boolean;
  /** Records in the store. */
  size: number;
  /** Merkle root and chain head of the records as stored. */
  merkleRoot: string;
  chainHead: string;
  checkpoints: {
    store: number;
    external: number;
    /** The largest external checkpoint checked, if any. */
    latestExternal: { size: number; time: number; source: string } | null;
  };
  problems: AuditProblem[];
  /** Limits of what this run could prove (no external checkpoint, no trusted key...). */
  warnings: string[];
}

export interface VerifyAuditOptions {
  /** Checkpoints kept outside the store: a file, a git ref, or already-read checkpoints. */
  checkpoints?: CheckpointSource | ExternalCheckpoints | undefined;
  /** The key checkpoints must be signed with; without it only each checkpoint's own key is checked. */
  publicKey?: KeyObject | undefined;
  /** Problems of these kinds are not reported (checkpointing ignores keys it does not hold). */
  ignore?: AuditProblemKind[];
}

const pageSize = 2000;

interface Scan {
  tree: MerkleTree;
  /** hashes[i] is the stored hash of the (i + 1)th record in seq order. */
  hashes: string[];
  /** seqs[i] is that record's seq. */
  seqs: number[];
}

/**
 * Verifies the whole audit log: every record against its hash, its neighbours and its columns, and
 * every checkpoint (in the store and outside it) against its signature and the records. Throws
 * STORE_FAILED only when the store can't be read at all.
 */
export async function verifyAudit(db: Kysely<Database>, options: VerifyAuditOptions = {}): Promise<AuditVerification> {
  const problems: AuditProblem[] = [];
  const warnings: string[] = [];
  try {
    if (!isPostgres(db)) await checkSqliteIntegrity(db, problems);
    const scan = await scanRecords(db, problems);
    const stored = await readStoreCheckpoints(db);
    const external = await loadExternal(options.checkpoints);
    for (const bad of external?.unreadable ?? []) {
      problems.push({ seq: null, kind: 'checkpoint-unreadable', message: `checkpoint at ${bad.where} is unreadable: ${bad.reason}` });
    }
    const externalList = external?.checkpoints ?? [];
    const checked = new Set<string>();
    const trusted: { checkpoint: SignedCheckpoint; source: string }[] = [];
    for (const [source, list] of [
      ['store', stored],
      [external?.source ?? '', externalList],
    ] as const) {
      for (const checkpoint of list) {
        // The store and the outside usually hold the same checkpoints: check each distinct one once.
        const identity = canonicalJson(checkpoint);
        if (checked.has(identity)) continue;
        checked.add(identity);
        if (checkCheckpoint(checkpoint, source, scan, options.publicKey, problems)) trusted.push({ checkpoint, source });
      }
    }
    checkCheckpointHistory(trusted, scan, problems);

    const latest = externalList.reduce<SignedCheckpoint | null>((best, c) => (best === null || c.size > best.size ? c : best), null);
    if (external === undefined) {
      warnings.push('No external checkpoint was checked: a truncated tail, or a rewrite of the whole log, cannot be detected. Pass --checkpoints <file> or --ref <repo>:<ref>.');
    } else if (latest !== null && latest.size < scan.tree.size) {
      warnings.push(`${scan.tree.size - latest.size} record(s) after the latest external checkpoint (size ${latest.size}) are protected by the hash chain only.`);
    }
    if (options.publicKey === undefined && checked.size > 0) {
      warnings.push('No trusted public key: each checkpoint was checked against the key inside it only. Pass --public-key.');
    }
    const ignored = new Set(options.ignore ?? []);
    const reported = problems.filter((p) => !ignored.has(p.kind));
    const size = scan.tree.size;
    return {
      ok: reported.length === 0,
      size,
      merkleRoot: scan.tree.root().toString('hex'),
      chainHead: size === 0 ? genesisHash : (scan.hashes[size - 1] ?? genesisHash),
      checkpoints: {
        store: stored.length,
        external: externalList.length,
        latestExternal: latest === null ? null : { size: latest.size, time: latest.time, source: external?.source ?? '' },
      },
      problems: reported,
      warnings,
    };
  } catch (error) {
    if (isFlowgateError(error)) throw error;
    throw new FlowgateError(
      'STORE_FAILED',
      `The audit log could not be read: ${(error as Error).message}. The store may be damaged; restore it from a backup and verify again.`,
      { cause: error },
    );
  }
}

async function checkSqliteIntegrity(db: Kysely<Database>, problems: AuditProblem[]): Promise<void> {
  const { rows } = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
  const messages = rows.map((row) => String(Object.values(row)[0]));
  if (messages.length === 1 && messages[0] === 'ok') return;
  problems.push({ seq: null, kind: 'store-corrupt', message: `SQLite reports a damaged store file: ${messages.slice(0, 5).join('; ')}` });
}

interface RawRow {
  seq: unknown;
  time: unknown;
  kind: unknown;
  subject: unknown;
  record: unknown;
  prev_hash: unknown;
  hash: unknown;
}

async function scanRecords(db: Kysely<Database>, problems: AuditProblem[]): Promise<Scan> {
  const scan: Scan = { tree: merkleTree(), hashes: [], seqs: [] };
  let expected = 1;
  let previousHash = genesisHash;
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows: RawRow[] = await db.selectFrom('audit_records').selectAll().where('seq', '>', after).orderBy('seq').limit(pageSize).execute();
    for (const row of rows) {
      // A damaged file can hand back any type in any column: compare as text, never trust the type.
      const seq = Number(row.seq);
      const record = typeof row.record === 'string' ? row.record : String(row.record);
      const hash = String(row.hash);
      const prevHash = String(row.prev_hash);
      if (seq > expected) {
        const range = seq - 1 === expected ? `record ${expected} is` : `records ${expected}..${seq - 1} are`;
        problems.push({ seq: expected, kind: 'missing', message: `${range} missing: deleted from the log` });
      }
      if (prevHash !== previousHash) {
        problems.push({
          seq,
          kind: 'chain-broken',
          message: `its prev_hash does not match the hash of the record before it: records before ${seq} were deleted, inserted or reordered`,
        });
      }
      if (chainHash(prevHash, record) !== hash) {
        problems.push({ seq, kind: 'hash-mismatch', message: 'its content does not match its hash: the record was edited' });
      }
      checkRecordText(row, seq, record, problems);
      scan.tree.append(recordLeafHash(record));
      scan.hashes.push(hash);
      scan.seqs.push(seq);
      previousHash = hash;
      expected = seq + 1;
      after = seq;
    }
    if (rows.length < pageSize) return scan;
  }
}

function checkRecordText(row: RawRow, seq: number, record: string, problems: AuditProblem[]): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(record);
  } catch {
    problems.push({ seq, kind: 'not-canonical', message: 'its stored text is not JSON: the record was edited or damaged' });
    return;
  }
  let canonical: string | null;
  try {
    canonical = canonicalJson(parsed);
  } catch {
    canonical = null;
  }
  if (canonical !== record) {
    problems.push({ seq, kind: 'not-canonical', message: 'its stored text is not canonical JSON: the record was edited' });
  }
  const fields = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (fields['seq'] !== seq) {
    problems.push({
      seq,
      kind: 'seq-mismatch',
      message: `it is stored at seq ${seq} but the hashed record says seq ${String(fields['seq'])}: records were reordered or renumbered`,
    });
  }
  for (const name of ['time', 'kind', 'subject'] as const) {
    const column = name === 'time' ? Number(row[name]) : row[name];
    if (fields[name] !== column) {
      problems.push({
        seq,
        kind: 'field-mismatch',
        message: `its ${name} column (${JSON.stringify(column)}) differs from the hashed record (${JSON.stringify(fields[name])}): the record was edited`,
      });
    }
  }
}

async function readStoreCheckpoints(db: Kysely<Database>): Promise<SignedCheckpoint[]> {
  const rows = await db.selectFrom('audit_checkpoints').selectAll().orderBy('id').execute();
  return rows.map((row) => ({
    version: 1,
    size: row.size,
    merkleRoot: row.merkle_root,
    chainHead: row.chain_head,
    time: row.time,
    keyId: row.key_id,
    publicKey: row.public_key,
    signature: row.signature,
  }));
}

async function loadExternal(source: VerifyAuditOptions['checkpoints']): Promise<ExternalCheckpoints | undefined> {
  if (source === undefined) return undefined;
  if ('checkpoints' in source) return source;
  return readCheckpointSource(source);
}

const describe = (checkpoint: SignedCheckpoint, source: string): string =>
  `the checkpoint of ${new Date(checkpoint.time * 1000).toISOString()} (size ${checkpoint.size}, ${source === 'store' ? 'in the store' : `from ${source}`})`;

/** Checks one checkpoint; true when its signature holds, so its claims count. */
function checkCheckpoint(checkpoint: SignedCheckpoint, source: string, scan: Scan, trusted: KeyObject | undefined, problems: AuditProblem[]): boolean {
  const what = describe(checkpoint, source);
  const signature = checkpointSignatureProblem(checkpoint, trusted);
  if (signature !== null) {
    problems.push({ seq: null, kind: signature.untrusted ? 'checkpoint-untrusted' : 'checkpoint-signature', message: `${what} can't be trusted: ${signature.reason}` });
    return false;
  }
  const size = scan.tree.size;
  if (checkpoint.size > size) {
    problems.push({
      seq: size + 1,
      kind: 'truncated',
      message: `${what} covers ${checkpoint.size} records but the store holds ${size}: records were removed (the tail was truncated, or records deleted)`,
    });
    return true;
  }
  if (scan.tree.root(checkpoint.size).toString('hex') !== checkpoint.merkleRoot) {
    problems.push({
      seq: checkpoint.size,
      kind: 'checkpoint-mismatch',
      message: `the Merkle root of the first ${checkpoint.size} records differs from ${what}: a record at or before seq ${checkpoint.size} was edited, removed, inserted or reordered since`,
    });
  }
  const head = checkpoint.size === 0 ? genesisHash : scan.hashes[checkpoint.size - 1];
  if (head !== checkpoint.chainHead) {
    problems.push({
      seq: checkpoint.size,
      kind: 'checkpoint-mismatch',
      message: `the chain head at size ${checkpoint.size} differs from ${what}: the chain was rewritten`,
    });
  }
  return true;
}

/** Checkpoints in time order must describe one growing log: sizes never shrink, each extends the last. */
function checkCheckpointHistory(list: { checkpoint: SignedCheckpoint; source: string }[], scan: Scan, problems: AuditProblem[]): void {
  const ordered = [...list].sort((a, b) => a.checkpoint.time - b.checkpoint.time || a.checkpoint.size - b.checkpoint.size);
  for (let i = 1; i < ordered.length; i++) {
    const before = ordered[i - 1] as (typeof ordered)[number];
    const after = ordered[i] as (typeof ordered)[number];
    const a = before.checkpoint;
    const b = after.checkpoint;
    if (b.size < a.size) {
      problems.push({
        seq: b.size + 1,
        kind: 'checkpoint-inconsistent',
        message: `${describe(b, after.source)} is smaller than the earlier ${describe(a, before.source)}: the log was rolled back`,
      });
      continue;
    }
    // Beyond the stored records no proof can be built; 'truncated' already says so.
    if (b.size > scan.tree.size) continue;
    const proof = scan.tree.consistencyProof(a.size, b.size);
    const consistent = verifyConsistency(a.size, b.size, Buffer.from(a.merkleRoot, 'hex'), Buffer.from(b.merkleRoot, 'hex'), proof);
    if (!consistent) {
      problems.push({
        seq: a.size,
        kind: 'checkpoint-inconsistent',
        message: `no consistency proof links ${describe(a, before.source)} to ${describe(b, after.source)}: the records they share were changed between them`,
      });
    }
  }
}
