import picomatch from 'picomatch';

/** A pull request as the gate sees it: fetched fresh from GitHub at decision time. */
export interface PullRequestFacts {
  repo: string;
  number: number;
  title: string;
  body: string;
  author: { login: string; type: string };
  draft: boolean;
  headRef: string;
  headSha: string;
  baseRef: string;
  baseSha: string;
  files: { path: string; previousPath: string | null; status: string; additions: number; deletions: number }[];
  commits: { sha: string; message: string; authorName: string; authorEmail: string; authorLogin: string | null }[];
  reviews: { login: string; state: string; commitId: string | null; submittedAt: string | null }[];
  /** Check runs on the head commit other than flowgate's own. */
  checks: { name: string; status: string; conclusion: string | null }[];
  /** .flowgate.yml as it is on the base commit (never the PR's own), null when absent. */
  policyText: string | null;
}

export type Tier = 'auto' | 'light' | 'standard' | 'senior';
export type CheckConclusion = 'success' | 'failure' | 'neutral' | 'action_required';

/** What the gate decided about a pull request, ready to publish. */
export interface GateVerdict {
  tier: Tier;
  conclusion: CheckConclusion;
  /** One line, for the check run title. */
  title: string;
  /** Markdown: the check run summary and the PR comment body. */
  summary: string;
  annotations: { path: string; startLine: number; endLine: number; level: 'notice' | 'warning' | 'failure'; message: string }[];
  /** GitHub logins to request a review from. */
  reviewers: string[];
  /** The policy lets this change merge without human review once its required checks pass. */
  autoMergeAllowed: boolean;
  /** Every required check passed (flowgate's own excluded). */
  requiredChecksPassed: boolean;
  risk: number | null;
  reasons: string[];
}

/** The gate as the service calls it; the real one is wired in by `defaultDecider`. */
export type Decider = (facts: PullRequestFacts) => GateVerdict | Promise<GateVerdict>;

const protectedPaths = picomatch(['.flowgate.yml', '.github/**', 'CODEOWNERS', '**/CODEOWNERS']);
const docsPaths = picomatch(['**/*.md', 'docs/**', '**/*.txt']);
const passed = new Set(['success', 'neutral', 'skipped']);

/**
 * A deliberately small gate used until src/decisions/gate lands (see the report): the riskiest tier
 * for changes to the policy, CI or ownership files, the `auto` lane for small documentation-only
 * changes, light/standard by size; it fails when a check failed.
 */
export function provisionalDecider(facts: PullRequestFacts): GateVerdict {
  const lines = facts.files.reduce((sum, f) => sum + f.additions + f.deletions, 0);
  const reasons: string[] = [];
  let tier: Tier;
  if (facts.files.some((f) => protectedPaths(f.path) || (f.previousPath !== null && protectedPaths(f.previousPath)))) {
    tier = 'senior';
    reasons.push('changes the policy, CI or ownership files');
  } else if (facts.files.length > 0 && facts.files.every((f) => docsPaths(f.path)) && lines <= 200) {
    tier = 'auto';
    reasons.push('documentation only');
  } else if (lines <= 50) {
    tier = 'light';
    reasons.push(`${lines} changed lines`);
  } else {
    tier = 'standard';
    reasons.push(`${lines} changed lines`);
  }
  const failed = facts.checks.filter((c) => c.status === 'completed' && !passed.has(c.conclusion ?? ''));
  const pending = facts.checks.filter((c) => c.status !== 'completed');
  const approved = facts.reviews.some((r) => r.state === 'APPROVED' && r.login !== facts.author.login);
  const conclusion: CheckConclusion = failed.length > 0 ? 'failure' : tier === 'auto' || approved ? 'success' : 'action_required';
  if (failed.length > 0) reasons.push(`failed checks: ${failed.map((c) => c.name).join(', ')}`);
  const title = `Tier ${tier}: ${conclusion === 'success' ? 'ready' : conclusion === 'failure' ? 'checks failed' : 'review required'}`;
  const summary = [
    `### flowgate: tier \`${tier}\``,
    '',
    ...reasons.map((r) => `- ${r}`),
    '',
    `Head: \`${facts.headSha.slice(0, 12)}\`, ${facts.files.length} files, ${lines} lines.`,
  ].join('\n');
  return {
    tier,
    conclusion,
    title,
    summary,
    annotations: facts.files
      .filter((f) => protectedPaths(f.path))
      .map((f) => ({ path: f.path, startLine: 1, endLine: 1, level: 'warning' as const, message: 'Protected path: needs a senior review.' })),
    reviewers: [],
    autoMergeAllowed: tier === 'auto' && facts.author.type !== 'Bot',
    requiredChecksPassed: failed.length === 0 && pending.length === 0,
    risk: null,
    reasons,
  };
}

/** The decider the service uses: the provisional one until the gate module exports `decideChange`. */
export const defaultDecider: Decider = provisionalDecider;
