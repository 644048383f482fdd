import { z } from 'zod';

/**
 * A person as config names them: an e-mail (`ada@example.com`), a canonical identity
 * (`Ada Lovelace <ada@example.com>`), a GitHub login (`@ada`) or a plain name. Matched case-insensitively.
 */
const PersonSpec = z.string().min(1);

/** The `routing` section of .flowgate.yml: reviewer selection settings. Every field is optional. */
export const RoutingConfig = z.strictObject({
  seniors: z.array(PersonSpec).default([]).describe('People who may review `senior`-tier changes (CODEOWNERS owners may too)'),
  away: z.array(PersonSpec).default([]).describe('People temporarily unavailable: never chosen'),
  departed: z.array(PersonSpec).default([]).describe('People who left: never chosen, and their knowledge counts as lost'),
  inactiveAfterDays: z
    .number()
    .positive()
    .default(90)
    .describe('A person with no change or review for this many days is treated as away'),
  secondReviewerForSilos: z
    .boolean()
    .default(false)
    .describe('Add a second reviewer when a changed file is a knowledge silo, to spread its knowledge'),
  siloShare: z
    .number()
    .gt(0)
    .max(1)
    .default(0.7)
    .describe('A file is a silo when one person holds at least this share of its expertise'),
  maxOpenReviews: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('A person with this many open review requests is not given another'),
  halfLifeDays: z.number().positive().default(180).describe('Expertise halves every this many days'),
  loadHalfMinutes: z
    .number()
    .positive()
    .default(120)
    .describe('Open review work (estimated minutes) at which a reviewer’s score is halved'),
  weights: z
    .strictObject({
      lines: z.number().min(0).default(0.4).describe('Weight of the surviving lines a person wrote (git blame)'),
      changes: z.number().min(0).default(0.4).describe('Weight of a person’s recent changes to the file'),
      reviews: z.number().min(0).default(0.2).describe('Weight of a person’s recent reviews of the file'),
      folder: z.number().min(0).default(0.3).describe('Weight of expertise in the file’s folder, added to the file’s own'),
    })
    .default({ lines: 0.4, changes: 0.4, reviews: 0.2, folder: 0.3 }),
});
export type RoutingConfig = z.infer<typeof RoutingConfig>;
