import { readConfigAt, type FlowgateConfig } from '../../core/config.ts';
import { FlowgateError } from '../../core/errors.ts';
import { compileGlobs, type PathMatcher } from './paths.ts';
import type { AgentConfig, FloorRule, LaneName, LaneRule, Tier, TierRule } from './schema.ts';

/** Tiers lowest first; a tier's index is its rank. */
export const tiers: readonly Tier[] = ['auto', 'light', 'standard', 'senior'];

/** The rank of a tier (auto 0 ... senior 3). */
export function tierRank(tier: Tier): number {
  return tiers.indexOf(tier);
}

/** The higher of two tiers. */
export function maxTier(a: Tier, b: Tier): Tier {
  return tierRank(a) >= tierRank(b) ? a : b;
}

/**
 * Paths that always need `senior` review and a human owner, whatever the policy says: the policy
 * itself, CI configuration and the ownership file. A policy can add to them, never remove them.
 */
export const builtinProtectedPaths: readonly string[] = [
  '.flowgate.yml',
  'CODEOWNERS',
  '.github/CODEOWNERS',
  'docs/CODEOWNERS',
  '.github/workflows/**',
  '.github/actions/**',
  '.gitlab-ci.yml',
  '.gitlab/ci/**',
  '.circleci/**',
  '.buildkite/**',
  'Jenkinsfile',
  'azure-pipelines.yml',
  '.travis.yml',
];

/** Lanes in the order they are tried. */
export const laneNames: readonly LaneName[] = ['docs', 'tests', 'lockfile', 'formatting'];

/** An agent from the policy with its path matchers compiled. */
export interface CompiledAgent {
  config: AgentConfig;
  allow: PathMatcher;
  deny: PathMatcher;
  /** Normalized account keys (with their aliases). */
  accounts: Set<string>;
  /** Normalized keys of its owner (with aliases). */
  owner: Set<string>;
}

/**
 * The policy in force, compiled for fast repeated decisions: globs are matchers and every identity
 * list is a set of normalized keys (lower-case, without a leading `@`, expanded through
 * `identities.aliases`).
 */
export interface Policy {
  /** Where the policy was read (e.g. `.flowgate.yml at 1a2b3c`). */
  source: string;
  config: FlowgateConfig;
  tiers: Record<Tier, TierRule>;
  unscored: Tier;
  floors: { rule: FloorRule; name: string; match: PathMatcher }[];
  lanes: { name: LaneName; rule: LaneRule; match: PathMatcher }[];
  protectedPaths: string[];
  isProtected: PathMatcher;
  agents: CompiledAgent[];
  /** Team name (lower-case, also `org/name` forms resolve to `name`) to member keys. */
  teams: Map<string, Set<string>>;
  seniors: Set<string>;
  automation: Set<string>;
  /** Key to every key of the same identity (from identities.aliases). */
  aliases: Map<string, Set<string>>;
  /** Problems that do not stop the policy from working but probably are mistakes. */
  warnings: string[];
}

/** Lower-cases an identity reference and drops a leading `@`. */
export function normalizeKey(ref: string): string {
  return ref.trim().replace(/^@/, '').toLowerCase();
}

/** Builds key to alias group from identities.aliases: every e-mail, name, GitHub login and the canonical form. */
function aliasIndex(config: FlowgateConfig): Map<string, Set<string>> {
  const index = new Map<string, Set<string>>();
  for (const alias of config.identities.aliases) {
    const canonicalEmail = /<([^>]+)>/.exec(alias.canonical)?.[1];
    const keys = [alias.canonical, ...alias.emails, ...alias.names, ...(alias.github === undefined ? [] : [alias.github]), ...(canonicalEmail === undefined ? [] : [canonicalEmail])];
    const group = new Set(keys.map(normalizeKey));
    for (const key of group) {
      const existing = index.get(key);
      if (existing === undefined) index.set(key, group);
      else for (const k of group) existing.add(k);
    }
  }
  return index;
}

/** Every key an identity reference is known by (itself plus its aliases). */
export function expandKeys(policy: Pick<Policy, 'aliases'>, refs: readonly (string | null | undefined)[]): Set<string> {
  const keys = new Set<string>();
  for (const ref of refs) {
    if (ref === null || ref === undefined || ref.trim() === '') continue;
    const key = normalizeKey(ref);
    keys.add(key);
    for (const alias of policy.aliases.get(key) ?? []) keys.add(alias);
  }
  return keys;
}

/** True when two key sets share a key. */
export function overlaps(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const key of a) if (b.has(key)) return true;
  return false;
}

/** The team name a reference names (`@org/backend` and `backend` both name `backend`). */
export function teamName(ref: string): string {
  const key = normalizeKey(ref);
  return key.slice(key.lastIndexOf('/') + 1);
}

const invalid = (source: string, message: string): FlowgateError =>
  new FlowgateError('CONFIG_INVALID', `${source}: ${message}. Fix the file and retry.`, { details: { source } });

/** Checks that limits grow with the tier (a lower tier may not take more than a higher one). */
function checkMonotone(source: string, byTier: Record<Tier, TierRule>, field: 'maxRisk' | 'maxLines'): void {
  let previous: { tier: Tier; value: number } | null = null;
  for (const tier of tiers) {
    const value = byTier[tier][field];
    if (value === undefined) continue;
    if (previous !== null && value < previous.value) {
      throw invalid(source, `tiers.${tier}.${field} (${value}) is below tiers.${previous.tier}.${field} (${previous.value}); limits must grow from auto to senior`);
    }
    previous = { tier, value };
  }
}

/**
 * Compiles the policy sections of a parsed config into a Policy; throws CONFIG_INVALID for
 * contradictions the schema cannot see (unknown teams, duplicate agents, shrinking limits).
 */
export function loadPolicy(config: FlowgateConfig, source = '.flowgate.yml'): Policy {
  const { auto, light, standard, senior, unscored } = config.tiers;
  const byTier: Record<Tier, TierRule> = { auto, light, standard, senior };
  checkMonotone(source, byTier, 'maxRisk');
  checkMonotone(source, byTier, 'maxLines');

  const aliases = aliasIndex(config);
  const base = { aliases };
  const teams = new Map<string, Set<string>>();
  for (const [name, team] of Object.entries(config.teams)) teams.set(teamName(name), expandKeys(base, team.members));

  const warnings: string[] = [];
  for (const tier of tiers) {
    for (const from of byTier[tier].approvals.from) {
      if (from === 'seniors') {
        if (config.seniors.length === 0) warnings.push(`tiers.${tier}.approvals.from names seniors but \`seniors\` is empty: only code owners can give those approvals`);
        continue;
      }
      if (!teams.has(teamName(from))) throw invalid(source, `tiers.${tier}.approvals.from names "${from}", which is neither \`seniors\` nor a team under \`teams\``);
    }
  }

  const seenAgents = new Set<string>();
  const agents: CompiledAgent[] = [];
  for (const agent of config.agents) {
    if (seenAgents.has(agent.id)) throw invalid(source, `agent id "${agent.id}" appears twice under \`agents\``);
    seenAgents.add(agent.id);
    agents.push({
      config: agent,
      allow: compileGlobs(agent.allow),
      deny: compileGlobs(agent.deny),
      accounts: expandKeys(base, agent.accounts),
      owner: expandKeys(base, [agent.owner]),
    });
  }

  const protectedPaths = [...builtinProtectedPaths, ...config.protected];
  const floors = config.rules.floors.map((rule) => ({ rule, name: rule.name ?? rule.paths.join(', '), match: compileGlobs(rule.paths) }));
  const lanes = laneNames.map((name) => ({ name, rule: config.lanes[name], match: compileGlobs(config.lanes[name].paths) }));

  return {
    source,
    config,
    tiers: byTier,
    unscored,
    floors,
    lanes,
    protectedPaths,
    isProtected: compileGlobs(protectedPaths),
    agents,
    teams,
    seniors: expandKeys(base, config.seniors),
    automation: expandKeys(base, [...config.automation, ...config.identities.bots]),
    aliases,
    warnings,
  };
}

/** Loads the policy in force for a change: the one at its base revision, never the head's. */
export function loadPolicyAt(repoPath: string, baseRev: string): Policy {
  return loadPolicy(readConfigAt(repoPath, baseRev), `.flowgate.yml at ${baseRev}`);
}
