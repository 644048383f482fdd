import { builtinSignatures, signaturesFromConfig } from '../analyses/provenance/index.ts';
import { detectProvenance } from '../analyses/provenance/detect.ts';
import { defaultConfig, parseConfig } from '../core/config.ts';
import { isFlowgateError } from '../core/errors.ts';
import { decideChange } from '../decisions/gate/decide.ts';
import { formatDecision } from '../decisions/gate/format.ts';
import type { ChangeFacts, Decision, GateFile } from '../decisions/gate/types.ts';
import { loadPolicy } from '../decisions/policy/policy.ts';
import type { CheckConclusion, GateVerdict, PullRequestFacts } from './decider.ts';

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

/** The service's decider: the gate's `decideChange` under the policy read from the base commit. */
export function gateDecider(facts: PullRequestFacts): GateVerdict {
  const source = `.flowgate.yml at ${facts.baseSha}`;
  let config;
  try {
    config = facts.policyText === null ? defaultConfig() : parseConfig(facts.policyText, source);
  } catch (error) {
    if (!isFlowgateError(error, 'CONFIG_INVALID')) throw error;
    // A broken policy on the base branch fails closed, visibly, instead of retrying forever.
    return invalidPolicyVerdict(error.message);
  }
  const policy = loadPolicy(config, facts.policyText === null ? 'default policy' : source);
  const change = changeFactsFromPull(facts, signaturesFromConfig(config.provenance));
  const decision = decideChange({
    policy,
    change,
    risk: null,
    approvals: facts.reviews.filter((r) => r.state === 'APPROVED' && r.commitId !== null).map((r) => ({ by: r.login, sha: r.commitId ?? '' })),
    checks: facts.checks.map((c) => ({ name: c.name, status: c.status === 'completed' ? (c.conclusion ?? 'neutral') : 'pending', sha: facts.headSha })),
    trust: null,
  });
  return verdictOf(decision, facts);
}
