import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { FlowgateError } from '../../core/errors.ts';
import type { Database } from '../../store/schema.ts';
import { appendCheckpointFile, signCheckpoint, writeCheckpointRef, type SignedCheckpoint } from './checkpoint-io.ts';
import { verifyAudit } from './verify.ts';

export interface CheckpointOptions {
  /** Unix seconds to state (default: now). */
  time?: number;
  /** Also append the checkpoint to this JSON-lines file. */
  toFile?: string | undefined;
  /** Also commit the checkpoint under this ref of this git repository. */
  toRef?: { repo: string; ref: string } | undefined;
}

/** A checkpoint and where it was written. */
export interface CheckpointResult {
  checkpoint: SignedCheckpoint;
  /** The commit written under the ref, when one was asked for. */
  commit?: string;
}

/**
 * Signs the log's current size, Merkle root and chain head with Ed25519, stores the checkpoint and
 * publishes it outside the store when asked. Refuses to sign a log that fails verification, so a
 * checkpoint never vouches for tampered records.
 */
export async function checkpoint(db: Kysely<Database>, privateKey: KeyObject, options: CheckpointOptions = {}): Promise<CheckpointResult> {
  // Older checkpoints may be signed by a retired key; that alone must not block signing with the new one.
  const verification = await verifyAudit(db, { publicKey: createPublicKey(privateKey), ignore: ['checkpoint-untrusted'] });
  if (!verification.ok) {
    const first = verification.problems[0];
    throw new FlowgateError(
      'AUDIT_TAMPERED',
      `Refusing to sign a checkpoint: the audit log fails verification (${verification.problems.length} problem(s); first: seq ${String(first?.seq ?? '-')}: ${first?.message ?? ''}). Run \`flowgate audit verify\` and investigate.`,
      { details: { problems: verification.problems } },
    );
  }
  const signed = signCheckpoint(
    {
      size: verification.size,
      merkleRoot: verification.merkleRoot,
      chainHead: verification.chainHead,
      time: options.time ?? Math.floor(Date.now() / 1000),
    },
    privateKey,
  );
  await db
    .insertInto('audit_checkpoints')
    .values({
      size: signed.size,
      merkle_root: signed.merkleRoot,
      chain_head: signed.chainHead,
      time: signed.time,
      key_id: signed.keyId,
      public_key: signed.publicKey,
      signature: signed.signature,
    })
    .execute();
  if (options.toFile !== undefined) appendCheckpointFile(options.toFile, signed);
  if (options.toRef === undefined) return { checkpoint: signed };
  const commit = await writeCheckpointRef(options.toRef.repo, options.toRef.ref, signed);
  return { checkpoint: signed, commit };
}
