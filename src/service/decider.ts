import type { Kysely } from 'kysely';
import type { Decision } from '../decisions/gate/types.ts';
import type { Database } from '../store/schema.ts';

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
  /** CODEOWNERS as it is on the base commit, null when the repository has none. */
  codeOwners: { source: string; text: string } | null;
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
  /** The gate's whole decision, recorded in its `decisions` table and the audit log (absent when no gate decided: an invalid policy). */
  decision?: Decision;
}

/** What a decider may read besides the facts: the store (risk, trust and reviewers from history). */
export interface DeciderContext {
  db: Kysely<Database>;
}

/** The gate as the service calls it (gateDecider wraps the gate module's decideChange). */
export type Decider = (facts: PullRequestFacts, context: DeciderContext) => GateVerdict | Promise<GateVerdict>;

