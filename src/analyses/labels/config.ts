import { z } from 'zod';

/** The `labels` section of .flowgate.yml: how fixes are recognised (filled in by the labels module). */
export const LabelsConfig = z.strictObject({});
export type LabelsConfig = z.infer<typeof LabelsConfig>;
