import { z } from 'zod';

/** The `provenance` section of .flowgate.yml: extra signatures (filled in by the provenance module). */
export const ProvenanceConfig = z.strictObject({});
export type ProvenanceConfig = z.infer<typeof ProvenanceConfig>;
