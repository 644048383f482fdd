import { authorizeAgentMerge, authorizeApproval, type AuthorityViolation } from '../authority/authority.ts';
import type { CodeOwners } from '../../analyses/routing/codeowners.ts';
import { compileCodeOwners, type OwnersOf } from '../policy/codeowners.ts';
import { compileGlobs } from '../policy/paths.ts';
import { expandKeys, maxTier, normalizeKey, overlaps, teamName, tierRank, tiers, type CompiledAgent, type Policy } from '../policy/policy.ts';
import type { LaneName, Tier } from '../policy/schema.ts';
import { computeTrust, type Trust } from '../trust/trust.ts';
import type { Approval, ChangeFacts, CheckResult, Decision, DecisionInput, FiredRule, GateFile, JudgedApproval, JudgedCheck, Requirement } from './types.ts';

/** What kind of author wrote a change, as the gate sees it. */
export type AuthorKind = 'human' | 'agent' | 'automation';

const short = (sha: string): string => sha.slice(0, 7);
const list = (items: readonly string[], max = 5): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

const unlistedAgents = new Map<string, CompiledAgent>();

/** An agent the policy does not list gets the schema's default authority, under a stable id. */
function unlistedAgent(tool: string | null): CompiledAgent {
  const id = `unlisted-${tool ?? 'agent'}`.replace(/[^A-Za-z0-9._-]/g, '-');
  const existing = unlistedAgents.get(id);
  if (existing !== undefined) return existing;
  const agent: CompiledAgent = {
    config: { id, owner: 'unknown', accounts: [], allow: ['**'], deny: [], maxTier: 'standard', ...(tool === null ? {} : { tool }) },
    allow: compileGlobs(['**']),
    deny: compileGlobs([]),
    accounts: new Set(),
    owner: new Set(),
  };
  unlistedAgents.set(id, agent);
  return agent;
}

/** Classifies the author: a listed agent (by account, or by tool when provenance says agent), automation, or a human. */
function classifyAuthor(policy: Policy, change: Pick<ChangeFacts, 'provenance'>, keys: Set<string>): { kind: AuthorKind; agent: CompiledAgent | null } {
  const { provenance } = change;
  const listed = policy.agents.find(
    (a) => overlaps(a.accounts, keys) || (provenance.class === 'agent' && a.config.tool !== undefined && a.config.tool === provenance.tool),
  );
  if (listed !== undefined) return { kind: 'agent', agent: listed };
  if (provenance.class === 'agent') return { kind: 'agent', agent: unlistedAgent(provenance.tool) };
  const bot = [...keys].some((k) => k.includes('[bot]'));
  if (provenance.class === 'automation' || bot || overlaps(policy.automation, keys)) return { kind: 'automation', agent: null };
  return { kind: 'human', agent: null };
}

/**
 * Who wrote a change, as the gate judges it: a policy agent (by account, or by tool when the
 * provenance says agent; an unlisted agent gets a stable `unlisted-<tool>` id), automation, or a
 * human.
 */
export function authorOf(policy: Policy, change: Pick<ChangeFacts, 'author' | 'provenance'>): { kind: AuthorKind; agent: CompiledAgent | null } {
  return classifyAuthor(policy, change, expandKeys(policy, [change.author.email, change.author.login]));
}

/** Classifies an approver the same way: agents and automation can never approve. */
function classifyApprover(policy: Policy, by: string, keys: Set<string>): AuthorKind {
  if (policy.agents.some((a) => a.config.id === by || overlaps(a.accounts, keys))) return 'agent';
  if ([...keys].some((k) => k.includes('[bot]')) || overlaps(policy.automation, keys)) return 'automation';
  return 'human';
}

/** True when a CODEOWNERS owner entry (`@user`, `@org/team`, e-mail) is one of `keys`. */
function ownerIs(policy: Policy, owner: string, keys: Set<string>): boolean {
  if (owner.startsWith('@') && owner.includes('/')) {
    const team = policy.teams.get(teamName(owner));
    return team !== undefined && overlaps(team, keys);
  }
  return overlaps(expandKeys(policy, [owner]), keys);
}

/** The lowest tier whose limit admits `value` (a tier without the limit admits everything). */
function tierFor(policy: Policy, field: 'maxRisk' | 'maxLines', value: number): Tier {
  return tiers.find((t) => {
    const limit = policy.tiers[t][field];
    return limit === undefined || value <= limit;
  }) ?? 'senior';
}

/** Files of the change that do not qualify for a lane (every file must qualify, renames on both sides). */
function laneMisfits(policy: Policy, lane: Policy['lanes'][number], files: readonly GateFile[]): GateFile[] {
  if (lane.name === 'formatting') return files.filter((f) => !f.whitespaceOnly);
  return files.filter((f) => !lane.match(f.path) || (f.oldPath !== null && !lane.match(f.oldPath)));
}

const passed = new Set(['success', 'neutral', 'skipped', 'passed']);
const waiting = new Set(['pending', 'queued', 'in_progress', 'waiting', 'requested', 'expected', 'action_required']);

/** Judges the tier's required checks against the results on the head commit. */
function judgeChecks(required: readonly string[], results: readonly CheckResult[], head: string): JudgedCheck[] {
  return required.map((name) => {
    const latest = results.filter((r) => r.name === name && (r.sha === undefined || r.sha === head)).at(-1);
    if (latest === undefined) return { name, state: 'missing' };
    const status = latest.status.toLowerCase();
    if (passed.has(status)) return { name, state: 'passed' };
    return { name, state: waiting.has(status) ? 'pending' : 'failed' };
  });
}

/** A counted approval, with the approver's identity keys. */
interface ValidApproval {
  by: string;
  id: string;
  keys: Set<string>;
}

/** Decides, for each approval, whether it counts: Cedar for who may approve, CODEOWNERS scope for staleness. */
function judgeApprovals(
  policy: Policy,
  change: ChangeFacts,
  approvals: readonly Approval[],
  authorKeys: Set<string>,
  agent: CompiledAgent | null,
  codeOwners: CodeOwners | null,
  ownersOf: OwnersOf,
): { judged: JudgedApproval[]; valid: ValidApproval[] } {
  const judged: JudgedApproval[] = [];
  const valid: ValidApproval[] = [];
  const seen = new Set<string>();
  for (const approval of approvals) {
    const keys = expandKeys(policy, [approval.by]);
    const id = [...keys].sort()[0] ?? normalizeKey(approval.by);
    const refuse = (reason: string): void => {
      judged.push({ by: approval.by, sha: approval.sha, counted: false, reason });
    };
    const kind = classifyApprover(policy, approval.by, keys);
    const verdict = authorizeApproval(change.head, {
      kind,
      id,
      isAuthor: overlaps(keys, authorKeys),
      directsAuthor: agent !== null && overlaps(keys, agent.owner),
    });
    if (!verdict.allowed) {
      refuse(`not allowed to approve (${verdict.rules.join(', ') || 'no permit'})`);
      continue;
    }
    const changed = approval.sha === change.head ? [] : change.changedSince[approval.sha];
    if (changed === undefined || changed === null) {
      refuse(`approved ${short(approval.sha)}, which cannot be compared with the head ${short(change.head)}`);
      continue;
    }
    const isOwner = codeOwners?.rules.some((rule) => rule.owners.some((o) => ownerIs(policy, o, keys))) === true;
    const inScope = isOwner ? changed.filter((p) => ownersOf(p).some((o) => ownerIs(policy, o, keys))) : changed;
    if (inScope.length > 0) {
      refuse(`stale: ${list(inScope)} changed after ${short(approval.sha)}`);
      continue;
    }
    if (seen.has(id)) {
      refuse('duplicate: this reviewer already approved');
      continue;
    }
    seen.add(id);
    judged.push({ by: approval.by, sha: approval.sha, counted: true, reason: null });
    valid.push({ by: approval.by, id, keys });
  }
  return { judged, valid };
}

/** Builds the approval requirements of the tier (plus the human owner of protected paths). */
function requirementsFor(policy: Policy, tier: Tier, paths: readonly string[], protectedFiles: readonly string[], valid: readonly ValidApproval[], ownersOf: OwnersOf): Requirement[] {
  const rule = policy.tiers[tier].approvals;
  const requirements: Requirement[] = [];
  const ownsAny = (a: ValidApproval, files: readonly string[]): boolean => files.some((p) => ownersOf(p).some((o) => ownerIs(policy, o, a.keys)));

  if (rule.count > 0) {
    const eligible = valid.filter((a) =>
      rule.from.length === 0 ||
      rule.from.some((from) => (from === 'seniors' ? overlaps(policy.seniors, a.keys) || ownsAny(a, paths) : overlaps(policy.teams.get(teamName(from)) ?? new Set(), a.keys))),
    );
    const who = rule.from.length === 0 ? 'any human reviewer but the author' : rule.from.map((f) => (f === 'seniors' ? 'a senior or code owner' : `team ${f}`)).join(' or ');
    const satisfiedBy = eligible.map((a) => a.by).slice(0, rule.count);
    requirements.push({ id: 'count', description: `${rule.count} approval${rule.count === 1 ? '' : 's'} from ${who}`, needed: rule.count, from: rule.from, satisfiedBy, met: eligible.length >= rule.count, files: [] });
  }

  const byOwners = (files: readonly string[]): Map<string, string[]> => {
    const groups = new Map<string, string[]>();
    for (const path of files) {
      const owners = ownersOf(path);
      const key = owners.join(' ');
      groups.set(key, [...(groups.get(key) ?? []), path]);
    }
    return groups;
  };

  if (rule.codeOwners) {
    for (const [owners, files] of byOwners(paths)) {
      if (owners === '') continue;
      const ownerList = owners.split(' ');
      const by = valid.filter((a) => ownerList.some((o) => ownerIs(policy, o, a.keys))).map((a) => a.by);
      requirements.push({ id: `code-owners:${owners}`, description: `1 approval from a code owner (${list(ownerList)}) of ${list(files, 3)}`, needed: 1, from: ownerList, satisfiedBy: by.slice(0, 1), met: by.length > 0, files });
    }
  }

  for (const [owners, files] of byOwners(protectedFiles)) {
    const ownerList = owners === '' ? [] : owners.split(' ');
    const by = valid
      .filter((a) => (ownerList.length > 0 ? ownerList.some((o) => ownerIs(policy, o, a.keys)) : overlaps(policy.seniors, a.keys)))
      .map((a) => a.by);
    const who = ownerList.length > 0 ? `a human owner (${list(ownerList)})` : policy.seniors.size > 0 ? 'a senior (no CODEOWNERS entry covers it)' : 'a senior, but `seniors` is empty and CODEOWNERS names no owner: add one';
    requirements.push({ id: `human-owner:${owners || 'seniors'}`, description: `1 approval from ${who} of protected ${list(files, 3)}`, needed: 1, from: ownerList.length > 0 ? ownerList : ['seniors'], satisfiedBy: by.slice(0, 1), met: by.length > 0, files: [...files] });
  }
  return requirements;
}

/** What would move the change down a tier: one hint per rule that holds it at its tier. */
function hintsToLower(policy: Policy, tier: Tier, rules: readonly FiredRule[], lines: number, files: readonly GateFile[], trust: Trust | null, agentId: string | null, risk: DecisionInput['risk']): string[] {
  const rank = tierRank(tier);
  if (rank === 0) return [];
  const lower = tiers[rank - 1] ?? 'auto';
  const hints: string[] = [];
  const splitOut = new Set<string>();
  for (const rule of rules) {
    if (rule.tier !== tier) continue;
    if (rule.rule === 'size') {
      const limit = policy.tiers[lower].maxLines;
      if (limit !== undefined) hints.push(`remove ${lines - limit} lines to get under the ${lower} size limit (${limit} lines)`);
    } else if (rule.rule === 'risk' && risk !== null) {
      const limit = policy.tiers[lower].maxRisk;
      const factors = risk.topFactors.slice(0, 3).map((f) => f.feature).join(', ');
      if (limit !== undefined) hints.push(`bring the risk from ${risk.probability.toFixed(2)} to ${limit} or less for ${lower}${factors === '' ? '' : ` (top factors: ${factors})`}`);
    } else if (rule.rule === 'unscored') {
      hints.push(`make every file qualify for a lane (docs, tests, lockfile, formatting), or give a risk estimate: without one, tiers.unscored puts the change at ${tier}`);
    } else if (rule.rule.startsWith('floor:') || rule.rule === 'protected') {
      for (const f of rule.files) splitOut.add(f);
      hints.push(`split out ${list(rule.files)} (${rule.rule})`);
    } else if (rule.rule === 'trust' && trust !== null) {
      hints.push(`agent ${agentId ?? '?'} earns the auto lane back after ${trust.toEarnAutoLane} more clean change${trust.toEarnAutoLane === 1 ? '' : 's'}`);
    } else if (rule.rule.startsWith('provenance:')) {
      hints.push(`rules.provenance puts every change by ${rule.rule.slice('provenance:'.length)} at ${tier} or above`);
    }
  }
  for (const lane of policy.lanes) {
    if (!lane.rule.enabled || tierRank(lane.rule.tier) >= rank) continue;
    const misfits = laneMisfits(policy, lane, files);
    if (misfits.length === 0 || misfits.length > 3 || misfits.length === files.length) continue;
    if (misfits.every((f) => splitOut.has(f.path))) continue;
    hints.push(`split out ${list(misfits.map((f) => f.path))} to qualify for the ${lane.name} lane (${lane.rule.tier})`);
  }
  return hints;
}

/**
 * Decides a change: its tier, whether it may merge, needs review (from whom) or is blocked, and
 * why. Pure and cheap: no I/O; the policy must be the base revision's (loadPolicyAt).
 */
export function decideChange(input: DecisionInput): Decision {
  const { policy, change, risk } = input;
  const files = change.files;
  const touched = [...new Set(files.flatMap((f) => (f.oldPath === null ? [f.path] : [f.path, f.oldPath])))];
  const lines = files.reduce((sum, f) => sum + f.added + f.deleted, 0);
  const rules: FiredRule[] = [];
  const fire = (rule: string, tier: Tier | null, detail: string, ruleFiles: string[] = []): void => {
    rules.push({ rule, tier, detail, files: ruleFiles });
  };

  // Lanes: every file must qualify; the first lane with the lowest tier wins over risk and size.
  let lane: { name: LaneName; tier: Tier } | null = null;
  for (const candidate of policy.lanes) {
    const { enabled, tier, maxLines } = candidate.rule;
    if (!enabled || files.length === 0 || (maxLines !== undefined && lines > maxLines)) continue;
    if (laneMisfits(policy, candidate, files).length > 0) continue;
    if (lane === null || tierRank(tier) < tierRank(lane.tier)) lane = { name: candidate.name, tier };
  }

  let tier: Tier;
  if (lane !== null) {
    tier = lane.tier;
    fire(`lane:${lane.name}`, tier, `every file qualifies for the ${lane.name} lane`);
  } else {
    const base = risk === null ? policy.unscored : tierFor(policy, 'maxRisk', risk.probability);
    if (risk === null) fire('unscored', base, `no risk estimate: tiers.unscored is ${base}`);
    else fire('risk', base, `risk ${risk.probability.toFixed(2)} is within the ${base} limit`);
    const bySize = tierFor(policy, 'maxLines', lines);
    fire('size', bySize, `${lines} changed lines: within the ${bySize} size limit`);
    tier = maxTier(base, bySize);
  }

  for (const floor of policy.floors) {
    const hit = touched.filter((p) => floor.match(p));
    if (hit.length === 0) continue;
    fire(`floor:${floor.name}`, floor.rule.tier, `touches ${list(hit, 3)}: at least ${floor.rule.tier}`, hit);
    tier = maxTier(tier, floor.rule.tier);
  }
  const provenanceFloor = policy.config.rules.provenance[change.provenance.class];
  if (provenanceFloor !== undefined) {
    fire(`provenance:${change.provenance.class}`, provenanceFloor, `written by ${change.provenance.class}${change.provenance.tool === null ? '' : ` (${change.provenance.tool})`}: at least ${provenanceFloor}`);
    tier = maxTier(tier, provenanceFloor);
  }
  const protectedFiles = touched.filter((p) => policy.isProtected(p));
  if (protectedFiles.length > 0) {
    fire('protected', 'senior', `touches protected ${list(protectedFiles, 3)}: senior review and a human owner, never the auto lane`, protectedFiles);
    tier = 'senior';
  }

  const authorKeys = expandKeys(policy, [change.author.email, change.author.login]);
  const author = classifyAuthor(policy, change, authorKeys);
  let trust = input.trust;
  if (author.kind === 'agent' && tier === 'auto') {
    trust ??= computeTrust([], policy);
    if (!trust.autoLane) {
      fire('trust', 'light', `agent ${author.agent?.config.id ?? '?'} is ${trust.level} (${trust.escapesTowardLimit} escapes): not in the auto lane`);
      tier = 'light';
    }
  }

  const reasons: string[] = [];
  let violations: AuthorityViolation[] = [];
  if (author.agent !== null) {
    violations = authorizeAgentMerge(author.agent, { change: change.head, tier, lines, files: touched }).violations;
    for (const v of violations) {
      fire(`authority:${v.rule}`, null, v.message, v.files);
      reasons.push(v.message);
    }
  }

  const checks = judgeChecks(policy.tiers[tier].checks, input.checks, change.head);
  for (const check of checks) {
    if (check.state === 'passed') continue;
    const why = check.state === 'missing' ? `has not reported on ${short(change.head)}` : check.state === 'pending' ? 'has not finished' : 'failed';
    fire(`check:${check.name}`, null, `required check ${check.name} ${why}`);
    reasons.push(`required check ${check.name} ${why}`);
  }

  const { parsed: codeOwners, ownersOf: lookup } = compileCodeOwners(change.codeOwners);
  // Requirements and staleness ask about the same paths many times: look each up once.
  const owned = new Map<string, readonly string[]>();
  const ownersOf: OwnersOf = (path) => {
    const hit = owned.get(path);
    if (hit !== undefined) return hit;
    const owners = lookup(path);
    owned.set(path, owners);
    return owners;
  };
  const { judged, valid } = judgeApprovals(policy, change, input.approvals, authorKeys, author.agent, codeOwners, ownersOf);
  const requirements = requirementsFor(policy, tier, touched, protectedFiles, valid, ownersOf);

  const outcome = reasons.length > 0 ? 'blocked' : requirements.every((r) => r.met) ? 'merge-allowed' : 'needs-review';
  return {
    outcome,
    tier,
    base: change.base,
    head: change.head,
    policySource: policy.source,
    author: { ...change.author, kind: author.kind, agent: author.agent?.config.id ?? null },
    provenance: change.provenance,
    lane: lane !== null && lane.tier === tier ? lane.name : null,
    lines,
    files: files.length,
    risk,
    rules,
    reasons,
    violations,
    requirements,
    approvals: judged,
    checks,
    trust: author.kind === 'agent' ? trust : null,
    notes: input.notes ?? [],
    toLowerTier: hintsToLower(policy, tier, rules, lines, files, trust, author.agent?.config.id ?? null, risk),
  };
}
