/** Provenance detection: who or what wrote a change (see docs/provenance.md). */
export { detectProvenance } from './detect.ts';
export type { ProvenanceInput } from './detect.ts';
export { builtinSignatures, Signature } from './signatures.ts';
export { signaturesFromConfig, ProvenanceConfig } from './config.ts';
export { parseGitAiNote } from './git-ai.ts';
export type { GitAiNote, GitAiSession } from './git-ai.ts';
