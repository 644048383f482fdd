import { builtinSignatures, signaturesFromConfig } from '../analyses/provenance/index.ts';
import { detectProvenance } from '../analyses/provenance/detect.ts';
import type { Kysely } from 'kysely';
import { parseCodeOwners, type CodeOwners } from '../analyses/routing/codeowners.ts';
import { reviewersFromStore } from '../analyses/routing/stored.ts';
import { defaultConfig, parseConfig, type FlowgateConfig } from '../core/config.ts';
import { isFlowgateError } from '../core/errors.ts';
import { log } from '../core/log.ts';
import { decideChange } from '../decisions/gate/decide.ts';
import { formatDecision } from '../decisions/gate/format.ts';
import { storedGateInputs, type StoredGateInputs } from '../decisions/gate/stored-inputs.ts';
import type { ChangeFacts, Decision, GateFile } from '../decisions/gate/types.ts';
import { loadPolicy, type Policy } from '../decisions/policy/policy.ts';
import type { Database } from '../store/schema.ts';
import type { CheckConclusion, DeciderContext, GateVerdict, PullRequestFacts } from './decider.ts';

/** GitHub's file statuses as git's letters. */
const statusLetters: Record<string, string> = { added: 'A', removed: 'D', modified: 'M', renamed: 'R', copied: 'C', changed: 'T', unchanged: 'M' };

function splitMessage(message: string): { subject: string; body: string } {
  const [subject = '', ...rest] = message.split('\n');
  return { subject, body: rest.join('\n').trim() };
}

/**
 * The gate's facts from what the GitHub API says about a pull request. What the API does not say
 * is taken the safe way: approvals of an older head count as stale (no per-file comparison), and
 * no file is whitespace-only.
 */
export function changeFactsFromPull(facts: PullRequestFacts, signatures = builtinSignatures): ChangeFacts {
  const files: GateFile[] = facts.files.map((f) => ({
    path: f.path,
    oldPath: f.previousPath,
    status: statusLetters[f.status] ?? 'M',
    added: f.additions,
    deleted: f.deletions,
    binary: false,
    whitespaceOnly: false,
  }));
  const head = facts.commits.at(-1);
  const author = { name: head?.authorName ?? facts.author.login, email: head?.authorEmail ?? '', login: facts.author.login };
  const { subject, body } = splitMessage(head?.message ?? facts.title);
  const provenance = detectProvenance(
    {
      author: { name: author.name, email: author.email },
      committer: { name: author.name, email: author.email },
      subject,
      body,
      trailers: [],
      headBranch: facts.headRef,
      commits: facts.commits.slice(0, -1).map((c) => ({ sha: c.sha, author: { name: c.authorName, email: c.authorEmail }, authorTime: 0, ...splitMessage(c.message), trailers: [] })),
      notes: [],
      prBody: facts.body,
      prAuthorLogin: facts.author.login,
    },
    signatures,
  );
  const changedSince: Record<string, string[] | null> = {};
  for (const review of facts.reviews) {
    if (review.commitId !== null) changedSince[review.commitId] = review.commitId === facts.headSha ? [] : null;
  }
  return {
    base: facts.baseSha,
    head: facts.headSha,
    mergeBase: facts.baseSha,
    author,
    provenance: { class: provenance.class, tool: provenance.tool },
    files,
    codeOwners: facts.codeOwners,
    changedSince,
  };
}

const failedConclusions = new Set(['failure', 'cancelled', 'timed_out', 'action_required', 'stale']);

/** Maps the gate's decision to what GitHub shows: a check conclusion, the markdown summary, annotations, reviewers. */
export function verdictOf(decision: Decision, facts: PullRequestFacts): GateVerdict {
  const conclusion: CheckConclusion = decision.outcome === 'merge-allowed' ? 'success' : decision.outcome === 'blocked' ? 'failure' : 'action_required';
  const anyCheckFailed = facts.checks.some((c) => c.status === 'completed' && failedConclusions.has(c.conclusion ?? ''));
  const unmetOwners = decision.requirements
    .filter((r) => !r.met)
    .flatMap((r) => r.from)
    .filter((who) => who.startsWith('@') && !who.includes('/'))
    .map((who) => who.slice(1));
  return {
    tier: decision.tier,
    conclusion,
    title: `Tier ${decision.tier}: ${decision.outcome}`,
    summary: formatDecision(decision, 'markdown'),
    annotations: decision.rules
      .filter((r) => r.tier === 'senior' || r.rule === 'protected' || r.rule.startsWith('authority:'))
      .flatMap((r) => r.files.map((path) => ({ path, startLine: 1, endLine: 1, level: r.rule.startsWith('authority:') ? ('failure' as const) : ('warning' as const), message: r.detail })))
      .slice(0, 50),
    reviewers: [...new Set(unmetOwners)],
    autoMergeAllowed: decision.outcome === 'merge-allowed' && decision.tier === 'auto',
    // Beyond the policy's required checks, flowgate never auto-merges over any failed check.
    requiredChecksPassed: decision.checks.every((c) => c.state === 'passed') && !anyCheckFailed,
    risk: decision.risk?.probability ?? null,
    reasons: [...decision.reasons, ...decision.rules.map((r) => r.detail)],
  };
}

function invalidPolicyVerdict(message: string): GateVerdict {
  return {
    tier: 'senior',
    conclusion: 'failure',
    title: 'The policy on the base branch is invalid',
    summary: `### flowgate: the policy on the base branch is invalid\n\n\`\`\`\n${message}\n\`\`\`\n\nFix .flowgate.yml on the base branch; until then every change needs a senior review.`,
    annotations: [],
    reviewers: [],
    autoMergeAllowed: false,
    requiredChecksPassed: false,
    risk: null,
    reasons: ['invalid policy'],
  };
}

/** A base commit's policy, compiled once: what a commit holds never changes. */
interface CompiledPolicy {
  config: FlowgateConfig;
  policy: Policy;
  signatures: ReturnType<typeof signaturesFromConfig>;
  codeOwners: CodeOwners | null;
}
const compiledPolicies = new Map<string, CompiledPolicy>();

function compilePolicy(facts: PullRequestFacts): CompiledPolicy {
  const key = `${facts.repo}@${facts.baseSha}\0${facts.policyText ?? ''}\0${facts.codeOwners?.text ?? ''}`;
  const cached = compiledPolicies.get(key);
  if (cached !== undefined) return cached;
  const source = `.flowgate.yml at ${facts.baseSha}`;
  const config = facts.policyText === null ? defaultConfig() : parseConfig(facts.policyText, source);
  const compiled: CompiledPolicy = {
    config,
    policy: loadPolicy(config, facts.policyText === null ? 'default policy' : source),
    signatures: signaturesFromConfig(config.provenance),
    codeOwners: facts.codeOwners === null ? null : parseCodeOwners(facts.codeOwners.text, facts.codeOwners.source),
  };
  // A plain bound: base commits change slowly and compiling again costs a millisecond or two.
  if (compiledPolicies.size >= 1000) compiledPolicies.clear();
  compiledPolicies.set(key, compiled);
  return compiled;
}

/**
 * Reviewers to request beyond the CODEOWNERS owners the policy requires: chosen by routing from
 * the store's history (expertise and current load), for changes that need a review. Routing is
 * advice: when it fails, the owners alone are requested and the failure is logged.
 */
async function routedReviewers(db: Kysely<Database>, facts: PullRequestFacts, decision: Decision, compiled: CompiledPolicy): Promise<string[]> {
  if (decision.outcome !== 'needs-review' || decision.tier === 'auto') return [];
  try {
    const routed = await reviewersFromStore(db, facts.repo, {
      files: facts.files.map((f) => ({ path: f.path, added: f.additions, deleted: f.deletions })),
      author: [facts.author.login, ...facts.commits.flatMap((c) => (c.authorEmail === '' ? [] : [`${c.authorName} <${c.authorEmail}>`]))],
      tier: decision.tier,
      prNumber: facts.number,
      config: compiled.config.routing,
      codeOwners: compiled.codeOwners,
    });
    return routed.logins;
  } catch (error) {
    log.warn({ err: error, repo: facts.repo, number: facts.number }, 'reviewer routing failed; requesting the required owners only');
    return [];
  }
}

/** Repositories found never analyzed, per store, until when (ms): their inputs are the same for every change. */
const unanalyzed = new WeakMap<Kysely<Database>, Map<string, { inputs: StoredGateInputs; until: number }>>();
const unanalyzedTtlMs = 60_000;

/**
 * Risk and trust from the store (`storedGateInputs`). A repository never analyzed gives no risk
 * and no trust whatever the change, so that answer is kept for a minute rather than asked for
 * (two queries) on every decision; an analysis shows up within that minute.
 */
async function storedInputs(db: Kysely<Database>, facts: PullRequestFacts, policy: Policy, change: ChangeFacts): Promise<StoredGateInputs> {
  const known = unanalyzed.get(db) ?? new Map<string, { inputs: StoredGateInputs; until: number }>();
  unanalyzed.set(db, known);
  const hit = known.get(facts.repo);
  if (hit !== undefined && hit.until > Date.now()) return hit.inputs;
  const inputs = await storedGateInputs(db, facts.repo, policy, {
    files: change.files,
    author: change.author,
    provenance: change.provenance,
    time: Math.floor(Date.now() / 1000),
    title: facts.title,
    commits: facts.commits.length,
  });
  if (inputs.risk === null && inputs.trust === null) known.set(facts.repo, { inputs, until: Date.now() + unanalyzedTtlMs });
  else known.delete(facts.repo);
  return inputs;
}

/**
 * The service's decider: the gate's `decideChange` under the policy read from the base commit,
 * with risk and the author agent's trust from the store (`storedGateInputs`; a repository never
 * analyzed is decided by rules alone), and reviewers: the CODEOWNERS owners the policy requires
 * first, then those routing chooses from the store.
 */
export async function gateDecider(facts: PullRequestFacts, context: DeciderContext): Promise<GateVerdict> {
  let compiled: CompiledPolicy;
  try {
    compiled = compilePolicy(facts);
  } catch (error) {
    if (!isFlowgateError(error, 'CONFIG_INVALID')) throw error;
    // A broken policy on the base branch fails closed, visibly, instead of retrying forever.
    return invalidPolicyVerdict(error.message);
  }
  const { policy } = compiled;
  const change = changeFactsFromPull(facts, compiled.signatures);
  const inputs = await storedInputs(context.db, facts, policy, change);
  const decision = decideChange({
    policy,
    change,
    risk: inputs.risk,
    approvals: facts.reviews.filter((r) => r.state === 'APPROVED' && r.commitId !== null).map((r) => ({ by: r.login, sha: r.commitId ?? '' })),
    checks: facts.checks.map((c) => ({ name: c.name, status: c.status === 'completed' ? (c.conclusion ?? 'neutral') : 'pending', sha: facts.headSha })),
    trust: inputs.trust,
    notes: inputs.notes,
  });
  const verdict = verdictOf(decision, facts);
  // Owners first: they are required; routed reviewers only add to them.
  const routed = inputs.risk === null ? [] : await routedReviewers(context.db, facts, decision, compiled);
  return { ...verdict, reviewers: [...new Set([...verdict.reviewers, ...routed])].filter((r) => r !== facts.author.login), decision };
}
