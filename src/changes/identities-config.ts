import { z } from 'zod';

/** One alias rule: every listed e-mail or name is the same identity as `canonical`. */
export const IdentityAlias = z.strictObject({
  canonical: z.string().min(1).describe('The identity as `Name <email>`'),
  emails: z.array(z.string().min(1)).default([]),
  names: z.array(z.string().min(1)).default([]),
  github: z.string().optional().describe('GitHub login of this identity'),
});
export type IdentityAlias = z.infer<typeof IdentityAlias>;

/** The `identities` section of .flowgate.yml. */
export const IdentitiesConfig = z.strictObject({
  aliases: z.array(IdentityAlias).default([]).describe('Several names or e-mails that are one person, agent or bot'),
  bots: z
    .array(z.string().min(1))
    .default([])
    .describe('Extra e-mails or names (exact, case-insensitive) of automation accounts'),
});
export type IdentitiesConfig = z.infer<typeof IdentitiesConfig>;
