import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { FlowgateError } from '../../core/errors.ts';
import { canonicalJson } from './canonical-json.ts';
import { keyId, publicKeyFromRaw, rawPublicKey } from './keys.ts';
import { git as runGit } from '../../sources/git/git.ts';

/**
 * Signed checkpoints: what they say, how they are signed, and where they are kept outside the
 * store (an append-only JSON-lines file, or a commit chain under a git ref).
 */

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * A signed checkpoint as written outside the store. Lenient on purpose: a file written by a later
 * version may carry more fields, which are ignored (they are not signed).
 */
export const SignedCheckpoint = z.object({
  version: z.literal(1),
  size: z.number().int().nonnegative(),
  merkleRoot: hex64,
  chainHead: hex64,
  time: z.number().int().nonnegative(),
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** Raw 32-byte Ed25519 public key, base64: tells which key signed, never proves it is trusted. */
  publicKey: z.string().min(1),
  /** Ed25519 signature over checkpointStatement(), base64. */
  signature: z.string().min(1),
});
export type SignedCheckpoint = z.infer<typeof SignedCheckpoint>;

/** What a checkpoint states before it is signed. */
export interface CheckpointFields {
  size: number;
  merkleRoot: string;
  chainHead: string;
  time: number;
}

/** The exact bytes that are signed: canonical JSON naming the log, the format and the key. */
export function checkpointStatement(checkpoint: CheckpointFields & { keyId: string }): Buffer {
  const statement = {
    log: 'flowgate-audit',
    version: 1,
    size: checkpoint.size,
    merkleRoot: checkpoint.merkleRoot,
    chainHead: checkpoint.chainHead,
    time: checkpoint.time,
    keyId: checkpoint.keyId,
  };
  return Buffer.from(canonicalJson(statement), 'utf8');
}

/** Signs the fields with an Ed25519 private key. */
export function signCheckpoint(fields: CheckpointFields, privateKey: KeyObject): SignedCheckpoint {
  const id = keyId(privateKey);
  const signature = sign(null, checkpointStatement({ ...fields, keyId: id }), privateKey);
  return {
    version: 1,
    size: fields.size,
    merkleRoot: fields.merkleRoot,
    chainHead: fields.chainHead,
    time: fields.time,
    keyId: id,
    publicKey: rawPublicKey(createPublicKey(privateKey)).toString('base64'),
    signature: signature.toString('base64'),
  };
}

/**
 * Why the checkpoint's signature can't be trusted, or null when it verifies. With a trusted key the
 * checkpoint must be signed by it; without one only the embedded key is checked (self-consistency).
 */
export function checkpointSignatureProblem(checkpoint: SignedCheckpoint, trusted?: KeyObject): { untrusted: boolean; reason: string } | null {
  let embedded: KeyObject;
  try {
    embedded = publicKeyFromRaw(checkpoint.publicKey);
  } catch {
    return { untrusted: false, reason: 'its public key is not a valid Ed25519 key' };
  }
  if (keyId(embedded) !== checkpoint.keyId) return { untrusted: false, reason: 'its key id does not match its public key' };
  if (trusted !== undefined && keyId(trusted) !== checkpoint.keyId) {
    return { untrusted: true, reason: `it is signed by key ${checkpoint.keyId}, not by the trusted key ${keyId(trusted)}` };
  }
  const key = trusted ?? embedded;
  const signature = Buffer.from(checkpoint.signature, 'base64');
  const valid = signature.length === 64 && verify(null, checkpointStatement(checkpoint), key, signature);
  return valid ? null : { untrusted: false, reason: 'its Ed25519 signature does not verify: the checkpoint was forged or altered' };
}

/** A checkpoint line or commit that could not be read. */
export interface UnreadableCheckpoint {
  where: string;
  reason: string;
}

/** Checkpoints read from outside the store, with whatever could not be read. */
export interface ExternalCheckpoints {
  source: string;
  checkpoints: SignedCheckpoint[];
  unreadable: UnreadableCheckpoint[];
}

/** Where checkpoints are kept outside the store. */
export type CheckpointSource = { file: string } | { repo: string; ref: string };

/** The ref checkpoints go under when none is named. */
export const defaultCheckpointRef = 'refs/flowgate/audit';

/** Parses `<repo>:<ref>` (or just `<repo>`, meaning refs/flowgate/audit). Git forbids ':' in ref names, so the last one splits. */
export function parseRefSpec(spec: string): { repo: string; ref: string } {
  const at = spec.lastIndexOf(':');
  const repo = at <= 0 ? spec : spec.slice(0, at);
  const ref = at <= 0 ? defaultCheckpointRef : spec.slice(at + 1);
  if (repo === '' || !ref.startsWith('refs/')) {
    throw new FlowgateError('USAGE', `"${spec}" is not <repo>:<ref>; write it like ./audit-repo:refs/flowgate/audit.`);
  }
  return { repo, ref };
}

/** Appends a checkpoint as one JSON line; the file is only ever appended to. */
export function appendCheckpointFile(path: string, checkpoint: SignedCheckpoint): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, `${canonicalJson(checkpoint)}\n`, { flag: 'a' });
  } catch (error) {
    throw new FlowgateError('CONFIG_INVALID', `Cannot append the checkpoint to ${path}: ${(error as Error).message}. Choose a writable file.`, {
      cause: error,
      details: { path },
    });
  }
}

/** Reads every checkpoint of a JSON-lines file. */
export function readCheckpointFile(path: string): ExternalCheckpoints {
  if (!existsSync(path)) {
    throw new FlowgateError('NOT_FOUND', `No checkpoint file at ${path}. Pass the file \`flowgate audit checkpoint --to-file\` writes.`, { details: { path } });
  }
  const result: ExternalCheckpoints = { source: path, checkpoints: [], unreadable: [] };
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    collect(result, `${path}:${i + 1}`, line);
  }
  return result;
}

function collect(result: ExternalCheckpoints, where: string, text: string): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    result.unreadable.push({ where, reason: `not JSON (${(error as Error).message})` });
    return;
  }
  const parsed = SignedCheckpoint.safeParse(value);
  if (parsed.success) result.checkpoints.push(parsed.data);
  else result.unreadable.push({ where, reason: `not a checkpoint (${z.prettifyError(parsed.error).replaceAll('\n', ' ')})` });
}

const checkpointFileName = 'checkpoint.json';

/** Records a checkpoint as a new commit on `ref` in `repo` (git plumbing; the work tree is never touched). */
export async function writeCheckpointRef(repo: string, ref: string, checkpoint: SignedCheckpoint): Promise<string> {
  const parent = await resolveRef(repo, ref);
  const blob = await git(repo, ['hash-object', '-w', '--stdin'], `${canonicalJson(checkpoint)}\n`);
  const tree = await git(repo, ['mktree'], `100644 blob ${blob}\t${checkpointFileName}\n`);
  const message = `flowgate audit checkpoint: size ${checkpoint.size}, root ${checkpoint.merkleRoot}`;
  const commit = await git(repo, ['commit-tree', tree, ...(parent === null ? [] : ['-p', parent]), '-m', message], undefined, {
    GIT_AUTHOR_NAME: 'flowgate',
    GIT_AUTHOR_EMAIL: 'flowgate@localhost',
    GIT_COMMITTER_NAME: 'flowgate',
    GIT_COMMITTER_EMAIL: 'flowgate@localhost',
    GIT_AUTHOR_DATE: `${checkpoint.time} +0000`,
    GIT_COMMITTER_DATE: `${checkpoint.time} +0000`,
  });
  // The old value makes the update a compare-and-swap: two writers can't silently drop a checkpoint.
  await git(repo, ['update-ref', '-m', 'flowgate audit checkpoint', ref, commit, parent ?? '0'.repeat(40)]);
  return commit;
}

/** Reads every checkpoint committed under `ref`, oldest first. */
export async function readCheckpointRef(repo: string, ref: string): Promise<ExternalCheckpoints> {
  const source = `${repo}:${ref}`;
  const head = await resolveRef(repo, ref);
  if (head === null) {
    throw new FlowgateError('NOT_FOUND', `No ${ref} in ${repo}. Write a checkpoint there first with \`flowgate audit checkpoint --to-ref ${source}\`.`);
  }
  const result: ExternalCheckpoints = { source, checkpoints: [], unreadable: [] };
  const commits = (await git(repo, ['rev-list', '--reverse', head])).split('\n').filter((line) => line !== '');
  for (const commit of commits) {
    try {
      collect(result, `${source}@${commit.slice(0, 12)}`, await git(repo, ['cat-file', 'blob', `${commit}:${checkpointFileName}`]));
    } catch (error) {
      result.unreadable.push({ where: `${source}@${commit.slice(0, 12)}`, reason: (error as Error).message });
    }
  }
  return result;
}

/** Reads checkpoints from a file or a git ref. */
export async function readCheckpointSource(source: CheckpointSource): Promise<ExternalCheckpoints> {
  return 'file' in source ? readCheckpointFile(source.file) : readCheckpointRef(source.repo, source.ref);
}

async function resolveRef(repo: string, ref: string): Promise<string | null> {
  await git(repo, ['rev-parse', '--git-dir']).catch((error: unknown) => {
    throw new FlowgateError('NOT_A_REPOSITORY', `${repo} is not a git repository. Pass the repository that keeps the checkpoints.`, { cause: error });
  });
  try {
    return await git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    return null;
  }
}

/** The shared git runner, output trimmed (shas and ref names). */
async function git(cwd: string, args: string[], input?: string, env: Record<string, string> = {}): Promise<string> {
  return (await runGit(cwd, args, { env, ...(input === undefined ? {} : { input }) })).trim();
}
