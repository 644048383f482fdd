import type { ProvenanceClass } from '../../store/schema.ts';

/**
 * The in-memory view the metrics work on: mainline changes plus pull requests, reviews, checks,
 * deployments and incidents, each either from events or derived from git (and marked so).
 * Times are Unix seconds.
 */

/** One mainline change, as the metrics need it. */
export interface FlowChange {
  id: number;
  sha: string;
  /** Order on the mainline: a deployment of position p contains every change up to p. */
  position: number;
  kind: string;
  prNumber: number | null;
  authorId: number;
  author: string;
  authorEmail: string;
  commitTime: number;
  codingStartedAt: number;
  linesAdded: number;
  linesDeleted: number;
  provenance: ProvenanceClass;
  tool: string | null;
  subject: string;
}

/** A pull request folded from its events, or derived from a merge/squash message. */
export interface FlowPullRequest {
  number: number;
  author: string | null;
  headBranch: string | null;
  openedAt: number | null;
  /** When review could start: `ready` if it was opened as a draft, else opened. */
  readyAt: number | null;
  closedAt: number | null;
  mergedAt: number | null;
  mergeSha: string | null;
  /** True when no PR events exist and it was derived from the mainline commit message. */
  derived: boolean;
}

export type ReviewState = 'approved' | 'changes_requested' | 'commented';

export interface FlowReview {
  prNumber: number;
  reviewer: string;
  state: ReviewState;
  at: number;
}

export interface FlowCheck {
  name: string;
  sha: string;
  branch: string | null;
  conclusion: string;
  at: number;
}

export interface FlowDeployment {
  /** Event id, or `tag:<name>` when derived from a release tag. */
  id: string;
  environment: string;
  result: 'success' | 'failure';
  sha: string;
  at: number;
  /** Mainline position of the deployed sha (null when it is not on the mainline). */
  position: number | null;
  derived: boolean;
}

export interface FlowIncident {
  key: string;
  openedAt: number;
  resolvedAt: number | null;
  severity: string | null;
  /** Event id of the deployment that caused it, when the source said so. */
  deploymentId: string | null;
  /** The commit that caused it, when known. */
  sha: string | null;
  /** The change that fixed it, when derived from a revert (its position on the mainline). */
  fixedAtPosition: number | null;
  /** 'revert' or 'hotfix' when derived from git, null when from events. */
  derivedFrom: 'revert' | 'hotfix' | null;
}

/** A change that a later mainline change reverted. */
export interface FlowRevert {
  revertedChangeId: number;
  revertingChangeId: number;
  at: number;
}

/** Per-file touch of a change, for the knowledge map (recent changes only). */
export interface FlowFileTouch {
  changeId: number;
  path: string;
  /** Lines added; null when unknown (its blob was missing when the change was mined). */
  added: number | null;
}

/** A team from the policy config: its name and the people (names, e-mails or logins) in it. */
export interface Team {
  name: string;
  members: string[];
}

/** Where an optional input from another module stands. */
export type Availability = 'available' | 'not-yet-computed';

export interface FlowData {
  repoId: number;
  repoKey: string;
  /** The mainline branch name, when known (main-branch CI). */
  branch: string | null;
  changes: FlowChange[];
  pullRequests: FlowPullRequest[];
  reviews: FlowReview[];
  checks: FlowCheck[];
  deployments: FlowDeployment[];
  incidents: FlowIncident[];
  reverts: FlowRevert[];
  files: FlowFileTouch[];
  teams: Team[];
  /** Change ids labelled defect-inducing by the learning module (SZZ). */
  defectInducing: Set<number>;
  labels: Availability;
  /** Review tier the gate decided per change id. */
  tiers: Map<number, string>;
  lanes: Availability;
  /** What was derived because events were missing. */
  derived: { pullRequests: number; deployments: number; incidents: number };
  /** Inputs that could not be used (an invalid policy config), said in the report rather than hidden. */
  problems: string[];
}
