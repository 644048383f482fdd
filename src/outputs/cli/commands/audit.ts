import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FlowgateError } from '../../../core/errors.ts';
import {
  checkpoint,
  exportAudit,
  parseRefSpec,
  publicKeyPem,
  resolvePublicKey,
  resolveSigningKey,
  verifyAudit,
  verifyAuditExport,
  type AuditProblem,
  type CheckpointSource,
} from '../../../decisions/audit/index.ts';
import { formatTable, printJson, withDbOption, withStore } from '../shared.ts';

interface VerifyFlags {
  db?: string;
  checkpoints?: string;
  ref?: string;
  publicKey?: string;
  export?: string;
  json?: boolean;
}

interface ExportFlags {
  db?: string;
  from?: string;
  to?: string;
  format: string;
}

interface CheckpointFlags {
  db?: string;
  key?: string;
  toFile?: string;
  toRef?: string;
  printPublicKey?: boolean;
  json?: boolean;
}

/** Registers `flowgate audit verify|export|checkpoint` (issue 4). */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('The tamper-evident audit log of gate decisions: verify it, export it, checkpoint it');

  withDbOption(audit.command('verify'))
    .description('Verify every record, the hash chain and the signed checkpoints; exits 3 when anything was tampered with')
    .option('--checkpoints <file>', 'checkpoints kept outside the store: the JSON-lines file `audit checkpoint --to-file` writes')
    .option('--ref <repo:ref>', 'checkpoints kept in a git repository, e.g. ../audit-repo:refs/flowgate/audit')
    .option('--public-key <file>', 'the PEM public key checkpoints must be signed with (default: that of the signing key)')
    .option('--export <file>', 'verify an `audit export` file offline instead of a store')
    .option('--json', 'print the result as JSON')
    .action(async (flags: VerifyFlags) => runVerify(flags));

  withDbOption(audit.command('export'))
    .description('Write records with their hashes and Merkle inclusion proofs, for verification by a third party')
    .option('--from <seq>', 'first record')
    .option('--to <seq>', 'last record')
    .option('--format <format>', 'output format (jsonl)', 'jsonl')
    .action(async (flags: ExportFlags) => runExport(flags));

  withDbOption(audit.command('checkpoint'))
    .description('Sign the log\'s size, Merkle root and chain head, store it, and publish it outside the store')
    .option('--key <file>', 'PEM Ed25519 private key, created (mode 0600) when missing (default: FLOWGATE_AUDIT_KEY, then ~/.config/flowgate/audit-ed25519.pem)')
    .option('--to-file <file>', 'also append the checkpoint to this JSON-lines file')
    .option('--to-ref <repo:ref>', 'also commit the checkpoint under this git ref, e.g. ../audit-repo:refs/flowgate/audit')
    .option('--print-public-key', 'also print the public key PEM to hand to verifiers')
    .option('--json', 'print the checkpoint as JSON')
    .action(async (flags: CheckpointFlags) => runCheckpoint(flags));
}

async function runVerify(flags: VerifyFlags): Promise<void> {
  if (flags.checkpoints !== undefined && flags.ref !== undefined) {
    throw new FlowgateError('USAGE', 'Pass either --checkpoints <file> or --ref <repo:ref>, not both.');
  }
  const publicKey = resolvePublicKey(flags.publicKey);
  if (flags.export !== undefined) {
    const text = readExportFile(flags.export);
    const result = verifyAuditExport(text, { publicKey });
    if (flags.json === true) printJson(result);
    else {
      process.stdout.write(`${result.records} exported record(s), proved against a ${result.signed ? 'signed' : 'UNSIGNED'} tree of ${result.size}\n`);
      printFindings(result.problems, result.warnings);
    }
    failIfTampered(result.problems);
    return;
  }
  const source: CheckpointSource | undefined =
    flags.checkpoints !== undefined ? { file: flags.checkpoints } : flags.ref !== undefined ? parseRefSpec(flags.ref) : undefined;
  const result = await withStore(flags.db, (store) => verifyAudit(store.db, { checkpoints: source, publicKey }));
  if (flags.json === true) printJson(result);
  else {
    const latest = result.checkpoints.latestExternal;
    process.stdout.write(
      [
        `records      ${result.size}`,
        `chain head   ${result.chainHead}`,
        `merkle root  ${result.merkleRoot}`,
        `checkpoints  ${result.checkpoints.store} in the store, ${result.checkpoints.external} outside${latest === null ? '' : ` (latest covers ${latest.size})`}`,
        '',
      ].join('\n'),
    );
    printFindings(result.problems, result.warnings);
  }
  failIfTampered(result.problems);
}

function printFindings(problems: AuditProblem[], warnings: string[]): void {
  for (const warning of warnings) process.stdout.write(`warning: ${warning}\n`);
  if (problems.length === 0) {
    process.stdout.write('ok: no tampering found\n');
    return;
  }
  process.stdout.write(`TAMPERED: ${problems.length} problem(s)\n`);
  process.stdout.write(`${formatTable(['seq', 'problem', 'what is wrong'], problems.map((p) => [p.seq, p.kind, p.message]))}\n`);
}

function failIfTampered(problems: AuditProblem[]): void {
  if (problems.length === 0) return;
  const first = problems[0];
  throw new FlowgateError(
    'AUDIT_TAMPERED',
    `The audit log failed verification: ${problems.length} problem(s), the first at seq ${String(first?.seq ?? '-')}: ${first?.message ?? ''}.`,
    { details: { problems } },
  );
}

async function runExport(flags: ExportFlags): Promise<void> {
  if (flags.format !== 'jsonl') throw new FlowgateError('USAGE', `--format ${flags.format} is not supported; use --format jsonl.`);
  const from = parseSeq(flags.from, '--from');
  const to = parseSeq(flags.to, '--to');
  if (from !== undefined && to !== undefined && from > to) throw new FlowgateError('USAGE', `--from ${from} is after --to ${to}.`);
  await withStore(flags.db, async (store) => {
    for await (const line of exportAudit(store.db, { from, to })) process.stdout.write(`${line}\n`);
  });
}

async function runCheckpoint(flags: CheckpointFlags): Promise<void> {
  const key = resolveSigningKey(flags.key);
  const toRef = flags.toRef === undefined ? undefined : parseRefSpec(flags.toRef);
  const result = await withStore(flags.db, (store) => checkpoint(store.db, key, { toFile: flags.toFile, toRef }));
  if (flags.json === true) {
    printJson({ ...result, ...(flags.printPublicKey === true ? { publicKeyPem: publicKeyPem(key) } : {}) });
    return;
  }
  const { checkpoint: signed } = result;
  process.stdout.write(`checkpoint signed by key ${signed.keyId}: size ${signed.size}, merkle root ${signed.merkleRoot}\n`);
  if (flags.toFile !== undefined) process.stdout.write(`appended to ${flags.toFile}\n`);
  if (toRef !== undefined && result.commit !== undefined) process.stdout.write(`committed ${result.commit} on ${toRef.ref} in ${toRef.repo}\n`);
  if (flags.printPublicKey === true) process.stdout.write(publicKeyPem(key));
}

function parseSeq(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new FlowgateError('USAGE', `${flag} expects a record number like 42, got "${value}".`);
  return Number(value);
}

function readExportFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new FlowgateError('NOT_FOUND', `Cannot read the export ${path}: ${(error as Error).message}. Pass a file written by \`flowgate audit export\`.`, { cause: error });
  }
}
