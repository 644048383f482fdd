import { z } from 'zod';

/** The four review tiers, lowest first. */
export const Tier = z.enum(['auto', 'light', 'standard', 'senior']);
export type Tier = z.infer<typeof Tier>;

/** Path globs (picomatch syntax, matched against repository-relative paths; dotfiles included). */
const Globs = z.array(z.string().min(1));

/** Who must approve a change of one tier. */
export interface ApprovalRule {
  count: number;
  from: string[];
  codeOwners: boolean;
}

/** The approvals schema of one tier, with that tier's defaults field by field. */
function approvalRule(defaults: ApprovalRule) {
  return z
    .strictObject({
      count: z.number().int().min(0).default(defaults.count).describe('How many valid human approvals the tier needs'),
      from: z
        .array(z.string().min(1))
        .default(defaults.from)
        .describe('Only approvals from these count toward `count`: team names (see `teams`) or the role `seniors`; empty = any human but the author'),
      codeOwners: z
        .boolean()
        .default(defaults.codeOwners)
        .describe('Every changed file with an owner in CODEOWNERS (read at the base revision) needs an approval from one of its owners'),
    })
    .prefault({});
}

/** One tier's schema, with that tier's defaults filled in field by field (so overriding one field keeps the others). */
function tierRule(defaults: { maxRisk?: number; maxLines?: number; count: number; from?: string[]; codeOwners: boolean }) {
  const maxRisk = z.number().min(0).max(1).describe('Highest risk probability of a change placed in this tier (ignored when no risk estimate is given)');
  const maxLines = z.number().int().min(0).describe('Largest change (lines added + deleted) placed in this tier');
  return z.strictObject({
    maxRisk: defaults.maxRisk === undefined ? maxRisk.optional() : maxRisk.default(defaults.maxRisk),
    maxLines: defaults.maxLines === undefined ? maxLines.optional() : maxLines.default(defaults.maxLines),
    approvals: approvalRule({ count: defaults.count, from: defaults.from ?? [], codeOwners: defaults.codeOwners }),
    checks: z.array(z.string().min(1)).default([]).describe('Check runs that must have passed on the head commit'),
  });
}

/** One tier: the limits a change must stay within to be placed in it, and what it requires. */
export interface TierRule {
  maxRisk?: number | undefined;
  maxLines?: number | undefined;
  approvals: ApprovalRule;
  checks: string[];
}

/** The `tiers` section: thresholds and requirements of each tier. */
export const TiersConfig = z.strictObject({
  auto: tierRule({ maxRisk: 0.1, maxLines: 50, count: 0, codeOwners: false }).prefault({}),
  light: tierRule({ maxRisk: 0.3, maxLines: 200, count: 1, codeOwners: false }).prefault({}),
  standard: tierRule({ maxRisk: 0.6, maxLines: 800, count: 1, codeOwners: true }).prefault({}),
  senior: tierRule({ count: 1, from: ['seniors'], codeOwners: true }).prefault({}),
  unscored: Tier.default('light').describe(
    'Lowest tier of a change that has no risk estimate and qualifies for no lane (size and rules can only raise it)',
  ),
});
export type TiersConfig = z.infer<typeof TiersConfig>;

/** A path floor: a change touching any matching file is at least `tier`. */
export const FloorRule = z.strictObject({
  name: z.string().min(1).optional().describe('Shown in explanations; defaults to the patterns'),
  paths: Globs.min(1),
  tier: Tier,
});
export type FloorRule = z.infer<typeof FloorRule>;

/** The `rules` section: floors raised by what a change touches and who wrote it. */
export const RulesConfig = z.strictObject({
  floors: z
    .array(FloorRule)
    .default([{ name: 'migrations', paths: ['migrations/**', '**/migrations/**'], tier: 'senior' }])
    .describe('A change touching any matching path is at least the given tier'),
  provenance: z
    .strictObject({
      human: Tier.optional(),
      'ai-assisted': Tier.optional(),
      agent: Tier.optional(),
      automation: Tier.optional(),
    })
    .default({})
    .describe('Lowest tier per provenance class of the change'),
});
export type RulesConfig = z.infer<typeof RulesConfig>;

/** A lane: a change whose EVERY file qualifies is placed in `tier` (rules and protected paths can still raise it). */
export interface LaneRule {
  enabled: boolean;
  tier: Tier;
  paths: string[];
  maxLines?: number | undefined;
}

/** One lane's schema with its defaults; `paths` given in the file replace the default list. */
function laneRule(tier: Tier, paths: string[]) {
  return z
    .strictObject({
      enabled: z.boolean().default(true),
      tier: Tier.default(tier),
      paths: Globs.default(paths).describe('Files that qualify (the formatting lane ignores it: it compares contents)'),
      maxLines: z.number().int().min(0).optional().describe('Largest change the lane takes'),
    })
    .prefault({});
}

/** The `lanes` section. */
export const LanesConfig = z.strictObject({
  docs: laneRule('auto', ['**/*.md', '**/*.mdx', '**/*.rst', '**/*.adoc', 'docs/**', '**/*.txt']),
  tests: laneRule('light', ['**/*.test.*', '**/*.spec.*', '**/__tests__/**', '**/__fixtures__/**', 'test/**', 'tests/**', '**/*_test.go', '**/test_*.py']),
  lockfile: laneRule('light', [
    '**/package-lock.json',
    '**/yarn.lock',
    '**/pnpm-lock.yaml',
    '**/Cargo.lock',
    '**/go.sum',
    '**/poetry.lock',
    '**/Gemfile.lock',
    '**/composer.lock',
    '**/uv.lock',
  ]),
  formatting: laneRule('auto', []),
});
export type LanesConfig = z.infer<typeof LanesConfig>;
export type LaneName = keyof LanesConfig;

/** A team: who is in it (GitHub logins or e-mails). */
export const TeamConfig = z.strictObject({
  members: z.array(z.string().min(1)).default([]),
});
export type TeamConfig = z.infer<typeof TeamConfig>;

/** One agent and its authority. */
export const AgentConfig = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash or underscore').describe('Name of the agent in decisions and the audit log'),
  tool: z.string().min(1).optional().describe('Provenance tool slug that identifies it (claude-code, copilot-agent, codex, ...)'),
  accounts: z.array(z.string().min(1)).default([]).describe('Author e-mails or logins the agent commits or approves as'),
  owner: z.string().min(1).describe('The human (login or e-mail) answerable for this agent'),
  allow: Globs.default(['**']).describe('Paths it may change; a change touching anything else is blocked'),
  deny: Globs.default([]).describe('Paths it may never change; a change touching one is blocked, whatever the approvals'),
  maxTier: Tier.default('standard').describe('Highest tier it may merge through'),
  maxLines: z.number().int().min(0).optional().describe('Largest change (lines added + deleted) it may make'),
  maxFiles: z.number().int().min(0).optional().describe('Most files it may change at once'),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

/** Trust: how an agent's record ties it to the auto lane. */
export const TrustConfig = z.strictObject({
  maxEscapes: z.number().int().min(1).default(2).describe('Escapes (defect-inducing or reverted changes through an escape lane) that cost the auto lane'),
  regainAfter: z.number().int().min(0).default(20).describe('Clean changes after losing the auto lane that earn it back'),
  minChanges: z.number().int().min(0).default(0).describe('Clean changes a new agent needs before it gets the auto lane'),
  escapeLanes: z.array(Tier).default(['auto']).describe('Lanes whose defects count as escapes'),
});
export type TrustConfig = z.infer<typeof TrustConfig>;

/**
 * The policy sections of .flowgate.yml (tiers, rules, lanes, teams, agents, protected paths,
 * checks, trust). They sit at the top level of the file; every field has a default so that an empty
 * file is a complete policy.
 */
export const PolicySections = {
  tiers: TiersConfig.prefault({}).describe('Review tiers: risk and size limits, approvals and checks each requires'),
  rules: RulesConfig.prefault({}).describe('Floors raised by paths and provenance'),
  lanes: LanesConfig.prefault({}).describe('Lanes every file of a change must qualify for'),
  teams: z.record(z.string().min(1), TeamConfig).default({}).describe('Teams by name; CODEOWNERS @org/name entries match a team called name'),
  seniors: z.array(z.string().min(1)).default([]).describe('Logins or e-mails of the people who may give senior approvals'),
  agents: z.array(AgentConfig).default([]).describe('AI agents, the human who owns each, and their authority'),
  automation: z.array(z.string().min(1)).default([]).describe('Extra logins or e-mails of automation accounts (never count as approvers)'),
  protected: Globs.default([]).describe(
    'Paths that need senior review and a human owner, in addition to the built-in ones (.flowgate.yml, CI configuration, CODEOWNERS)',
  ),
  trust: TrustConfig.prefault({}),
};
