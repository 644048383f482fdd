import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { FlowgateError } from '../../core/errors.ts';
import type { Database } from '../../store/schema.ts';
import { canonicalJson } from './canonical-json.ts';
import { checkpointSignatureProblem, SignedCheckpoint } from './checkpoint-io.ts';
import { chainHash, genesisHash, recordLeafHash } from './log.ts';
import { merkleTree, verifyInclusion } from './merkle.ts';
import type { AuditProblem } from './verify.ts';

/**
 * Export for offline verification: one JSON line stating the tree (with the signed checkpoint it
 * is proved against), then one line per record with its chain hashes and its Merkle audit path.
 * A third party needs only this file and the public key.
 */

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

/** The first line of an export. Lenient: fields added later are ignored. */
export const ExportHeader = z.object({
  type: z.literal('tree'),
  size: z.number().int().nonnegative(),
  merkleRoot: hex64,
  checkpoint: SignedCheckpoint.nullable(),
});
export type ExportHeader = z.infer<typeof ExportHeader>;

/** A record line of an export. */
export const ExportRecord = z.object({
  type: z.literal('record'),
  seq: z.number().int().positive(),
  leafIndex: z.number().int().nonnegative(),
  /** The canonical JSON that was hashed. */
  record: z.string(),
  prevHash: hex64,
  hash: hex64,
  /** Audit path to the header's root, hex; null for records after the tree's size. */
  inclusionProof: z.array(hex64).nullable(),
});
export type ExportRecord = z.infer<typeof ExportRecord>;

export interface ExportOptions {
  from?: number | undefined;
  to?: number | undefined;
}

/**
 * Yields the export's JSON lines. Records are proved against the latest checkpoint in the store;
 * without one, against the current (unsigned) root. Records after that checkpoint carry no proof.
 */
export async function* exportAudit(db: Kysely<Database>, options: ExportOptions = {}): AsyncGenerator<string> {
  const tree = merkleTree();
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows = await db.selectFrom('audit_records').select(['seq', 'record']).where('seq', '>', after).orderBy('seq').limit(5000).execute();
    for (const row of rows) tree.append(recordLeafHash(row.record));
    const last = rows.at(-1);
    if (last === undefined) break;
    after = last.seq;
  }
  const latest = await db.selectFrom('audit_checkpoints').selectAll().orderBy('size', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const checkpoint: SignedCheckpoint | null =
    latest === undefined || latest.size > tree.size
      ? null
      : {
          version: 1,
          size: latest.size,
          merkleRoot: latest.merkle_root,
          chainHead: latest.chain_head,
          time: latest.time,
          keyId: latest.key_id,
          publicKey: latest.public_key,
          signature: latest.signature,
        };
  const size = checkpoint?.size ?? tree.size;
  const header: ExportHeader = { type: 'tree', size, merkleRoot: tree.root(size).toString('hex'), checkpoint };
  yield canonicalJson(header);

  let query = db.selectFrom('audit_records').selectAll().orderBy('seq');
  if (options.from !== undefined) query = query.where('seq', '>=', options.from);
  if (options.to !== undefined) query = query.where('seq', '<=', options.to);
  // Leaf positions come from the full ordering, so count the records before the range once.
  const before = options.from === undefined ? 0 : Number((await db.selectFrom('audit_records').select((eb) => eb.fn.countAll().as('n')).where('seq', '<', options.from).executeTakeFirstOrThrow()).n);
  let leafIndex = before;
  for (const row of await query.execute()) {
    const line: ExportRecord = {
      type: 'record',
      seq: row.seq,
      leafIndex,
      record: row.record,
      prevHash: row.prev_hash,
      hash: row.hash,
      inclusionProof: leafIndex < size ? tree.inclusionProof(leafIndex, size).map((h) => h.toString('hex')) : null,
    };
    yield canonicalJson(line);
    leafIndex++;
  }
}

/** The outcome of checking an export offline. */
export interface ExportVerification {
  ok: boolean;
  records: number;
  size: number;
  signed: boolean;
  problems: AuditProblem[];
  warnings: string[];
}

/** Checks an export with nothing but its text and (ideally) the trusted public key. */
export function verifyAuditExport(text: string, options: { publicKey?: KeyObject | undefined } = {}): ExportVerification {
  const problems: AuditProblem[] = [];
  const warnings: string[] = [];
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = ExportHeader.safeParse(parseLine(lines[0] ?? ''));
  if (!header.success) {
    throw new FlowgateError('EVENT_INVALID', 'The export does not start with a tree line: pass a file written by `flowgate audit export`.');
  }
  const { size, merkleRoot, checkpoint } = header.data;
  if (checkpoint === null) {
    warnings.push('The export carries no signed checkpoint: its root is only what the exporter computed.');
  } else {
    const signature = checkpointSignatureProblem(checkpoint, options.publicKey);
    if (signature !== null) problems.push({ seq: null, kind: signature.untrusted ? 'checkpoint-untrusted' : 'checkpoint-signature', message: `the export's checkpoint can't be trusted: ${signature.reason}` });
    if (checkpoint.size !== size || checkpoint.merkleRoot !== merkleRoot) {
      problems.push({ seq: null, kind: 'checkpoint-mismatch', message: 'the tree line does not match the checkpoint it carries' });
    }
    if (options.publicKey === undefined) warnings.push('No trusted public key: the checkpoint was checked against its own key only.');
  }
  const root = Buffer.from(merkleRoot, 'hex');
  let previous: ExportRecord | null = null;
  let records = 0;
  for (const [i, line] of lines.slice(1).entries()) {
    const parsed = ExportRecord.safeParse(parseLine(line));
    if (!parsed.success) {
      problems.push({ seq: null, kind: 'not-canonical', message: `line ${i + 2} is not an export record` });
      continue;
    }
    const entry = parsed.data;
    records++;
    const fields = parseLine(entry.record) as { seq?: unknown } | null;
    if (fields?.seq !== entry.seq || entry.leafIndex !== entry.seq - 1) {
      problems.push({ seq: entry.seq, kind: 'seq-mismatch', message: `line ${i + 2}'s seq, leaf index and hashed record disagree` });
    }
    if (chainHash(entry.prevHash, entry.record) !== entry.hash) {
      problems.push({ seq: entry.seq, kind: 'hash-mismatch', message: 'its content does not match its hash: the record was edited' });
    }
    const expectedPrev = previous === null ? (entry.seq === 1 ? genesisHash : null) : previous.seq + 1 === entry.seq ? previous.hash : null;
    if (previous !== null && previous.seq + 1 !== entry.seq) {
      problems.push({ seq: previous.seq + 1, kind: 'missing', message: `the export skips from seq ${previous.seq} to ${entry.seq}` });
    }
    if (expectedPrev !== null && entry.prevHash !== expectedPrev) {
      problems.push({ seq: entry.seq, kind: 'chain-broken', message: 'its prev_hash does not match the hash of the record before it' });
    }
    if (entry.leafIndex < size) {
      const proof = (entry.inclusionProof ?? []).map((h) => Buffer.from(h, 'hex'));
      if (!verifyInclusion(recordLeafHash(entry.record), entry.leafIndex, size, proof, root)) {
        problems.push({ seq: entry.seq, kind: 'checkpoint-mismatch', message: `its Merkle audit path does not lead to the root of size ${size}: the record is not the one checkpointed` });
      }
    }
    previous = entry;
  }
  return { ok: problems.length === 0, records, size, signed: checkpoint !== null, problems, warnings };
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}
