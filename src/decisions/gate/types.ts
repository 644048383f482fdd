import type { ProvenanceClass } from '../../changes/change.ts';
import type { AuthorityViolation } from '../authority/authority.ts';
import type { CodeOwnersText } from '../policy/codeowners.ts';
import type { Policy } from '../policy/policy.ts';
import type { LaneName, Tier } from '../policy/schema.ts';
import type { Trust } from '../trust/trust.ts';

export type { Policy, Tier, LaneName, Trust };

/** One file a change touches, between the merge base and the head. */
export interface GateFile {
  path: string;
  oldPath: string | null;
  /** A added, M modified, D deleted, R renamed, C copied, T type change. */
  status: string;
  /** 0 for binary files. */
  added: number;
  deleted: number;
  binary: boolean;
  /** Old and new differ only in whitespace and blank lines (git diff -w --ignore-blank-lines). */
  whitespaceOnly: boolean;
}

/** Who wrote the change, as its head commit says. */
export interface ChangeAuthor {
  name: string;
  email: string;
  login: string | null;
}

/** Who or what wrote the change (from the provenance detector, or the author e-mail alone). */
export interface GateProvenance {
  class: ProvenanceClass;
  tool: string | null;
}

/** Everything git says about a change that the decision needs; JSON-serialisable. */
export interface ChangeFacts {
  base: string;
  head: string;
  mergeBase: string;
  author: ChangeAuthor;
  provenance: GateProvenance;
  files: GateFile[];
  /** CODEOWNERS as it is at the base revision (null: the repository has none). */
  codeOwners: CodeOwnersText | null;
  /** Per approved sha: the files that differ between it and the head (null: not comparable, so stale). */
  changedSince: Record<string, string[] | null>;
}

/** Where a risk estimate came from: the repository's own model, the shipped default one, or a file (--risk). */
export type RiskSource = 'repository-model' | 'default-model' | 'given';

/** The risk model's estimate, when there is a model. */
export interface RiskEstimate {
  probability: number;
  topFactors: { feature: string; value: number; contribution: number }[];
  /** Absent for estimates made before the source was recorded. */
  source?: RiskSource;
  /** The stored model's id, when the repository's own model scored it. */
  modelId?: number;
}

/** A review approval: who gave it and which head sha they approved. */
export interface Approval {
  /** GitHub login or e-mail. */
  by: string;
  sha: string;
}

/** A check run's result, as GitHub reports its conclusion (success, failure, pending, neutral, skipped...). */
export interface CheckResult {
  name: string;
  status: string;
  /** The commit it ran on; a result for another commit does not count. */
  sha?: string;
}

/** The input of one gate decision. */
export interface DecisionInput {
  /** The policy read from the base revision (see loadPolicyAt). */
  policy: Policy;
  change: ChangeFacts;
  risk: RiskEstimate | null;
  approvals: Approval[];
  checks: CheckResult[];
  /** The author agent's trust (computeTrust); null when not an agent or no record is known. */
  trust: Trust | null;
  /** Where risk and trust came from, shown with the decision (e.g. "the repository was never analyzed"). */
  notes?: string[];
}

export type Outcome = 'merge-allowed' | 'needs-review' | 'blocked';

/** A rule that fired and what it did to the tier. */
export interface FiredRule {
  /** Stable id: risk, size, unscored, lane:docs, floor:<name>, provenance:<class>, protected, trust, authority:<rule>, check:<name>. */
  rule: string;
  /** The tier this rule asks for (null for rules that block or only explain). */
  tier: Tier | null;
  detail: string;
  files: string[];
}

/** One approval requirement of the tier and whether the valid approvals meet it. */
export interface Requirement {
  /** count, code-owners:<owners>, human-owner. */
  id: string;
  description: string;
  needed: number;
  /** Who may satisfy it: team names, `seniors`, code owners; empty = any human but the author. */
  from: string[];
  /** The approvers who satisfy it. */
  satisfiedBy: string[];
  met: boolean;
  files: string[];
}

/** How one approval was judged. */
export interface JudgedApproval {
  by: string;
  sha: string;
  counted: boolean;
  /** Why it does not count (agent, bot, author, stale ...). */
  reason: string | null;
}

/** How one required check was judged. */
export interface JudgedCheck {
  name: string;
  state: 'passed' | 'failed' | 'pending' | 'missing';
}

/** The gate's decision about a change: typed, serialisable, explained. */
export interface Decision {
  outcome: Outcome;
  tier: Tier;
  base: string;
  head: string;
  policySource: string;
  author: ChangeAuthor & { kind: 'human' | 'agent' | 'automation'; agent: string | null };
  provenance: GateProvenance;
  lane: LaneName | null;
  lines: number;
  files: number;
  risk: RiskEstimate | null;
  rules: FiredRule[];
  /** Why the change is blocked (empty unless blocked). */
  reasons: string[];
  violations: AuthorityViolation[];
  requirements: Requirement[];
  approvals: JudgedApproval[];
  checks: JudgedCheck[];
  trust: Trust | null;
  /** Where risk and trust came from (the store, a flag, or nothing: decided by rules alone). */
  notes: string[];
  /** What would move the change down a tier. */
  toLowerTier: string[];
}
