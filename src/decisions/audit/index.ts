/** The tamper-evident audit log: what the gate, the service and the CLI call. */
export { appendAudit, appendAuditBatch, readAuditRecords, type AuditEntry, type AuditRecord, type StoredAuditRecord } from './log.ts';
export { checkpoint, type CheckpointOptions, type CheckpointResult } from './checkpoint.ts';
export { verifyAudit, type AuditProblem, type AuditProblemKind, type AuditVerification, type VerifyAuditOptions } from './verify.ts';
export { exportAudit, verifyAuditExport, type ExportOptions, type ExportVerification } from './export.ts';
export {
  defaultCheckpointRef,
  parseRefSpec,
  readCheckpointSource,
  type CheckpointSource,
  type SignedCheckpoint,
} from './checkpoint-io.ts';
export { defaultSigningKeyPath, loadOrCreateSigningKey, loadPublicKey, publicKeyPem, resolvePublicKey, resolveSigningKey } from './keys.ts';
export { canonicalJson } from './canonical-json.ts';
