import type { FlowChange, FlowData, FlowDeployment, FlowIncident, FlowPullRequest, FlowReview } from './data.ts';
import { productionEnvironment } from './load.ts';

/** The four stages of a change's flow time (DevLake's split). */
export const stages = ['coding', 'pickup', 'review', 'deploy'] as const;
export type Stage = (typeof stages)[number];

/** One mainline change's way through the flow; spans in seconds, null when unknown or negative. */
export interface ChangeFlow {
  change: FlowChange;
  pr: FlowPullRequest | null;
  mergedAt: number;
  readyAt: number | null;
  firstReviewAt: number | null;
  /** Reviewers other than the author, in order of their first review. */
  reviewers: string[];
  deployment: FlowDeployment | null;
  stages: Record<Stage, number | null>;
  /** First commit to production deployment (or to merge when the repository has no deployments). */
  leadTime: number | null;
  /** `pr`: PR events split the stages; `derived-pr`: PR known from git only; `direct`: no PR. */
  split: 'pr' | 'derived-pr' | 'direct';
}

/** A span, or null when either end is missing or it is negative (clock skew, bad data). */
export function span(from: number | null, to: number | null): number | null {
  if (from === null || to === null) return null;
  const d = to - from;
  return d < 0 ? null : d;
}

/** Successful production deployments in time order. */
export function productionDeployments(deployments: readonly FlowDeployment[]): FlowDeployment[] {
  return deployments.filter((d) => d.result === 'success' && productionEnvironment.test(d.environment)).sort((a, b) => a.at - b.at);
}

/**
 * Which deployment first shipped each change. A deployment of mainline position p ships every change
 * up to p not shipped before; a redeploy or rollback ships nothing new, so a change deployed twice
 * counts once, at its first deployment. The first deployment in the data has no earlier one to
 * compare with: we cannot tell which of its changes were already running, so it ships none (it
 * still counts as a deployment).
 */
export function linkDeployments(changes: readonly FlowChange[], deployments: readonly FlowDeployment[]): Map<number, FlowDeployment> {
  const shipped = new Map<number, FlowDeployment>();
  const ordered = productionDeployments(deployments).filter((d) => d.position !== null);
  const byPosition = [...changes].sort((a, b) => a.position - b.position);
  let high: number | null = null;
  let cursor = 0;
  for (const d of ordered) {
    const pos = d.position ?? -1;
    if (high === null) {
      high = pos;
      while (cursor < byPosition.length && (byPosition[cursor]?.position ?? Infinity) <= pos) cursor++;
      continue;
    }
    if (pos <= high) continue;
    while (cursor < byPosition.length && (byPosition[cursor]?.position ?? Infinity) <= pos) {
      const c = byPosition[cursor];
      if (c !== undefined) shipped.set(c.id, d);
      cursor++;
    }
    high = pos;
  }
  return shipped;
}

/** The PR of each change: by the PR number git recorded, else by the merge sha a PR event gave. */
export function pullRequestsByChange(data: Pick<FlowData, 'changes' | 'pullRequests'>): Map<number, FlowPullRequest> {
  const byNumber = new Map<number, FlowPullRequest>();
  const bySha = new Map<string, FlowPullRequest>();
  for (const pr of data.pullRequests) {
    const known = byNumber.get(pr.number);
    // An event-backed PR wins over one derived from a message with the same number.
    if (known === undefined || (known.derived && !pr.derived)) byNumber.set(pr.number, pr);
    if (pr.mergeSha !== null && !pr.derived) bySha.set(pr.mergeSha, pr);
  }
  const out = new Map<number, FlowPullRequest>();
  for (const c of data.changes) {
    const pr = (c.prNumber !== null ? byNumber.get(c.prNumber) : undefined) ?? bySha.get(c.sha) ?? shortShaMatch(bySha, c.sha);
    if (pr !== undefined) out.set(c.id, pr);
  }
  return out;
}

function shortShaMatch(bySha: Map<string, FlowPullRequest>, sha: string): FlowPullRequest | undefined {
  if (bySha.size === 0) return undefined;
  for (const [s, pr] of bySha) if (s.length < 40 && sha.startsWith(s)) return pr;
  return undefined;
}

/** Reviews grouped by PR number, in time order. */
export function reviewsByPr(reviews: readonly FlowReview[]): Map<number, FlowReview[]> {
  const out = new Map<number, FlowReview[]>();
  for (const r of [...reviews].sort((a, b) => a.at - b.at)) {
    const list = out.get(r.prNumber) ?? [];
    list.push(r);
    out.set(r.prNumber, list);
  }
  return out;
}

/**
 * Reviews that count for a PR: by someone other than its author, dated at or after it was opened
 * (an earlier date is clock skew or an imported comment from before the PR existed).
 */
export function countingReviews(pr: FlowPullRequest, reviews: readonly FlowReview[], authorNames: readonly string[] = []): FlowReview[] {
  const authors = new Set([pr.author, ...authorNames].filter((a): a is string => a !== null).map((a) => a.toLowerCase()));
  const opened = pr.openedAt ?? pr.readyAt;
  return reviews.filter((r) => !authors.has(r.reviewer.toLowerCase()) && (opened === null || r.at >= opened));
}

/** Every mainline change's flow: stages, lead time, its PR, reviews and deployment. */
export function changeFlows(data: FlowData): ChangeFlow[] {
  const prs = pullRequestsByChange(data);
  const reviews = reviewsByPr(data.reviews);
  const shipped = linkDeployments(data.changes, data.deployments);
  const anyDeployment = productionDeployments(data.deployments).some((d) => d.position !== null);
  return data.changes.map((change) => {
    const pr = prs.get(change.id) ?? null;
    const deployment = shipped.get(change.id) ?? null;
    const mergedAt = pr?.mergedAt ?? change.commitTime;
    const firstCommit = Math.min(change.codingStartedAt, change.commitTime);
    const deployedAt = deployment?.at ?? null;
    const deploy = span(mergedAt, deployedAt);
    const leadTime = anyDeployment ? span(firstCommit, deployedAt) : span(firstCommit, mergedAt);
    if (pr === null || pr.derived) {
      return {
        change,
        pr,
        mergedAt,
        readyAt: null,
        firstReviewAt: null,
        reviewers: [],
        deployment,
        // Without PR events the time before merge cannot be split: it is all counted as coding.
        stages: { coding: span(firstCommit, mergedAt), pickup: null, review: null, deploy },
        leadTime,
        split: pr === null ? 'direct' : 'derived-pr',
      };
    }
    const valid = countingReviews(pr, reviews.get(pr.number) ?? [], pr.author === null ? [change.author] : []);
    const firstReviewAt = valid[0]?.at ?? null;
    const reviewers = [...new Set(valid.map((r) => r.reviewer))];
    return {
      change,
      pr,
      mergedAt,
      readyAt: pr.readyAt,
      firstReviewAt,
      reviewers,
      deployment,
      stages: {
        coding: span(firstCommit, pr.readyAt),
        pickup: span(pr.readyAt, firstReviewAt),
        review: span(firstReviewAt, mergedAt),
        deploy,
      },
      leadTime,
      split: 'pr',
    };
  });
}

/** How an incident was tied to a deployment. */
export type Attribution = 'stated' | 'by-sha' | 'latest-before' | 'none';

/**
 * The deployment an incident is attributed to: the one its source named; else the first deployment
 * that shipped its sha (unless the fix shipped with it: the failure never reached production); else
 * the latest successful production deployment before it opened (DevLake's rule); else none, an
 * incident that no deployment caused.
 */
export function attributeIncident(
  incident: FlowIncident,
  deployments: readonly FlowDeployment[],
  positionOf: (sha: string) => number | null,
): { deployment: FlowDeployment | null; how: Attribution } {
  const prod = productionDeployments(deployments);
  if (incident.deploymentId !== null) {
    const stated = deployments.find((d) => d.id === incident.deploymentId) ?? null;
    if (stated !== null) return { deployment: stated, how: 'stated' };
  }
  if (incident.sha !== null) {
    const pos = positionOf(incident.sha);
    if (pos !== null) {
      const first = prod.find((d) => d.position !== null && d.position >= pos) ?? null;
      if (first === null) return { deployment: null, how: 'none' };
      if (incident.fixedAtPosition !== null && (first.position ?? -1) >= incident.fixedAtPosition) return { deployment: null, how: 'none' };
      return { deployment: first, how: 'by-sha' };
    }
  }
  let latest: FlowDeployment | null = null;
  for (const d of prod) if (d.at <= incident.openedAt) latest = d;
  if (latest === null) return { deployment: null, how: 'none' };
  if (incident.fixedAtPosition !== null && latest.position !== null && latest.position >= incident.fixedAtPosition) return { deployment: null, how: 'none' };
  return { deployment: latest, how: 'latest-before' };
}
