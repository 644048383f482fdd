import { z } from 'zod';

/** The `routing` section of .flowgate.yml: reviewer selection settings (filled in by the routing module). */
export const RoutingConfig = z.strictObject({});
export type RoutingConfig = z.infer<typeof RoutingConfig>;
