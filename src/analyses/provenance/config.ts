import { z } from 'zod';
import { FlowgateError } from '../../core/errors.ts';
import { Signature, builtinSignatures } from './signatures.ts';

/**
 * The `provenance` section of .flowgate.yml. Both fields are optional: core config defaults the
 * whole section to `{}` without parsing it (zod 4 `.default`), so readers treat a missing field as
 * an empty list.
 */
export const ProvenanceConfig = z.strictObject({
  signatures: z
    .array(Signature)
    .optional()
    .describe('Extra signatures, same fields as the built-in ones; one with a built-in id replaces it. Default: none'),
  disable: z
    .array(z.string().min(1))
    .optional()
    .describe('Ids of signatures (built-in or extra) to turn off. Default: none'),
});
export type ProvenanceConfig = z.infer<typeof ProvenanceConfig>;

function invalid(message: string, details: Record<string, unknown>, cause?: unknown): FlowgateError {
  return new FlowgateError('CONFIG_INVALID', `.flowgate.yml provenance: ${message}`, cause === undefined ? { details } : { cause, details });
}

/**
 * The signatures in force: built-in, then extra ones (an extra with a built-in id replaces it in
 * place), minus the disabled ids. Throws CONFIG_INVALID naming the signature on a bad pattern, a
 * duplicate extra id or an unknown disabled id.
 */
export function signaturesFromConfig(config: ProvenanceConfig): Signature[] {
  const byId = new Map<string, Signature>(builtinSignatures.map((signature) => [signature.id, signature]));
  const extraIds = new Set<string>();
  for (const raw of config.signatures ?? []) {
    // Parsed again because a config may be built in code, skipping the schema check of the loader.
    const result = Signature.safeParse(raw);
    if (!result.success) {
      throw invalid(`signature "${raw.id}" is invalid:\n${z.prettifyError(result.error)}\nFix it and retry.`, { signature: raw.id }, result.error);
    }
    if (extraIds.has(raw.id)) {
      throw invalid(`signature id "${raw.id}" is defined twice in provenance.signatures; give each one its own id.`, { signature: raw.id });
    }
    extraIds.add(raw.id);
    byId.set(raw.id, result.data);
  }
  const disabled = new Set(config.disable ?? []);
  for (const id of disabled) {
    if (!byId.has(id)) {
      throw invalid(`provenance.disable names "${id}", which is no signature id; see docs/provenance.md for the ids.`, { signature: id });
    }
  }
  return [...byId.values()].filter((signature) => !disabled.has(signature.id));
}
