import { preparsePolicySet, statefulIsAuthorized, type AuthorizationAnswer, type EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import { FlowgateError } from '../../core/errors.ts';
import { tierRank, type CompiledAgent } from '../policy/policy.ts';
import type { Tier } from '../policy/schema.ts';

/**
 * The Cedar policies that enforce authority. Path matching stays in TypeScript (picomatch); Cedar
 * gets its results as context attributes, and each agent's limits as attributes of its entity
 * (generated from .flowgate.yml by `agentEntity`). Deny wins over permit, so a forbid can never be
 * overridden by approvals or by another rule.
 */
export const authorityPolicies: Record<string, string> = {
  'merge-permitted': 'permit(principal, action == Flowgate::Action::"merge", resource);',
  'agent-forbidden-path':
    'forbid(principal is Flowgate::Agent, action == Flowgate::Action::"merge", resource) when { context.touchesForbidden };',
  'agent-outside-allowed':
    'forbid(principal is Flowgate::Agent, action == Flowgate::Action::"merge", resource) when { context.outsideAllowed };',
  'agent-max-tier':
    'forbid(principal is Flowgate::Agent, action == Flowgate::Action::"merge", resource) when { context.tierRank > principal.maxTierRank };',
  'agent-max-lines':
    'forbid(principal is Flowgate::Agent, action == Flowgate::Action::"merge", resource) when { principal has maxLines && context.size > principal.maxLines };',
  'agent-max-files':
    'forbid(principal is Flowgate::Agent, action == Flowgate::Action::"merge", resource) when { principal has maxFiles && context.files > principal.maxFiles };',
  'human-may-approve': 'permit(principal is Flowgate::Human, action == Flowgate::Action::"approve", resource);',
  'agent-never-approves': 'forbid(principal is Flowgate::Agent, action == Flowgate::Action::"approve", resource);',
  'bot-never-approves': 'forbid(principal is Flowgate::Bot, action == Flowgate::Action::"approve", resource);',
  'author-never-approves': 'forbid(principal, action == Flowgate::Action::"approve", resource) when { context.isAuthor };',
  'directing-human-never-approves': 'forbid(principal, action == Flowgate::Action::"approve", resource) when { context.directsAuthor };',
};

const policySetId = 'flowgate-authority';
let prepared = false;

/** Parses the policy set once per process; statefulIsAuthorized then skips parsing (~7x faster). */
function prepare(): void {
  if (prepared) return;
  const answer = preparsePolicySet(policySetId, { staticPolicies: authorityPolicies });
  if (answer.type === 'failure') {
    throw new FlowgateError('INTERNAL', `Cedar rejected flowgate's authority policies: ${answer.errors.map((e) => e.message).join('; ')}`);
  }
  prepared = true;
}

type Principal = { type: 'Flowgate::Human' | 'Flowgate::Agent' | 'Flowgate::Bot'; id: string };

/** Runs one request against the prepared policy set; returns the ids of the policies that decided it. */
function authorize(principal: Principal, action: 'merge' | 'approve', resource: string, context: Record<string, boolean | number>, entities: EntityJson[]): { allowed: boolean; policies: string[] } {
  prepare();
  const answer: AuthorizationAnswer = statefulIsAuthorized({
    principal,
    action: { type: 'Flowgate::Action', id: action },
    resource: { type: 'Flowgate::Change', id: resource },
    context,
    preparsedPolicySetId: policySetId,
    entities,
  });
  if (answer.type === 'failure') {
    throw new FlowgateError('INTERNAL', `Cedar could not evaluate ${action} for ${principal.id}: ${answer.errors.map((e) => e.message).join('; ')}`);
  }
  const { decision, diagnostics } = answer.response;
  if (diagnostics.errors.length > 0) {
    // A policy that errors is skipped by Cedar; for a gate that would fail open, so refuse instead.
    throw new FlowgateError('INTERNAL', `Cedar policy ${diagnostics.errors[0]?.policyId ?? '?'} failed: ${diagnostics.errors[0]?.error.message ?? ''}`);
  }
  return { allowed: decision === 'allow', policies: diagnostics.reason };
}

const entityCache = new WeakMap<CompiledAgent, EntityJson>();

/** The Cedar entity of an agent: its limits from .flowgate.yml as attributes. */
export function agentEntity(agent: CompiledAgent): EntityJson {
  const cached = entityCache.get(agent);
  if (cached !== undefined) return cached;
  const { id, owner, tool, maxTier, maxLines, maxFiles } = agent.config;
  const attrs: EntityJson['attrs'] = { owner, maxTierRank: tierRank(maxTier) };
  if (tool !== undefined) attrs['tool'] = tool;
  if (maxLines !== undefined) attrs['maxLines'] = maxLines;
  if (maxFiles !== undefined) attrs['maxFiles'] = maxFiles;
  const entity: EntityJson = { uid: { type: 'Flowgate::Agent', id }, attrs, parents: [] };
  entityCache.set(agent, entity);
  return entity;
}

/** What the gate knows about a change when asking whether an agent may merge it. */
export interface MergeFacts {
  change: string;
  tier: Tier;
  lines: number;
  files: string[];
}

/** One authority rule that denied a request, with the files involved. */
export interface AuthorityViolation {
  rule: string;
  message: string;
  files: string[];
}

/** Whether `agent` may merge a change of this tier, size and files; the violations say why not. */
export function authorizeAgentMerge(agent: CompiledAgent, facts: MergeFacts): { allowed: boolean; violations: AuthorityViolation[] } {
  const forbidden = facts.files.filter((path) => agent.deny(path));
  const outside = facts.files.filter((path) => !agent.allow(path));
  const { allowed, policies } = authorize(
    { type: 'Flowgate::Agent', id: agent.config.id },
    'merge',
    facts.change,
    {
      touchesForbidden: forbidden.length > 0,
      outsideAllowed: outside.length > 0,
      tierRank: tierRank(facts.tier),
      size: facts.lines,
      files: facts.files.length,
    },
    [agentEntity(agent)],
  );
  if (allowed) return { allowed, violations: [] };
  const { id, maxTier, maxLines, maxFiles } = agent.config;
  const describe: Record<string, () => AuthorityViolation> = {
    'agent-forbidden-path': () => ({ rule: 'agent-forbidden-path', message: `agent ${id} may not change ${forbidden.join(', ')}`, files: forbidden }),
    'agent-outside-allowed': () => ({ rule: 'agent-outside-allowed', message: `agent ${id} may only change ${agent.config.allow.join(', ')}; ${outside.join(', ')} is outside`, files: outside }),
    'agent-max-tier': () => ({ rule: 'agent-max-tier', message: `agent ${id} may merge through ${maxTier} at most; this change is ${facts.tier}`, files: [] }),
    'agent-max-lines': () => ({ rule: 'agent-max-lines', message: `agent ${id} may change ${maxLines ?? 0} lines at most; this change has ${facts.lines}`, files: [] }),
    'agent-max-files': () => ({ rule: 'agent-max-files', message: `agent ${id} may change ${maxFiles ?? 0} files at most; this change has ${facts.files.length}`, files: [] }),
  };
  const violations = policies.map((policy) => describe[policy]?.() ?? { rule: policy, message: `denied by ${policy}`, files: [] });
  return { allowed, violations };
}

/** Who approved, as the gate classified them. */
export interface ApproverFacts {
  kind: 'human' | 'agent' | 'automation';
  id: string;
  /** The approver is the change's author. */
  isAuthor: boolean;
  /** The approver is the human who owns the agent that wrote the change. */
  directsAuthor: boolean;
}

/** Whether an approval may count at all; `rules` names the Cedar policies that refused it. */
export function authorizeApproval(change: string, approver: ApproverFacts): { allowed: boolean; rules: string[] } {
  const type = approver.kind === 'agent' ? 'Flowgate::Agent' : approver.kind === 'automation' ? 'Flowgate::Bot' : 'Flowgate::Human';
  const { allowed, policies } = authorize({ type, id: approver.id }, 'approve', change, { isAuthor: approver.isAuthor, directsAuthor: approver.directsAuthor }, []);
  return { allowed, rules: allowed ? [] : [...policies].sort() };
}
