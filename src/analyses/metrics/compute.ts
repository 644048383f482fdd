import { detectProvenance } from '../provenance/detect.ts';
import { builtinSignatures } from '../provenance/signatures.ts';
import type { ProvenanceClass } from '../../store/schema.ts';
import type { Availability, FlowChange, FlowData, FlowPullRequest } from './data.ts';
import { productionEnvironment } from './load.ts';
import { computeDora, within, type DoraMetrics, type Period } from './dora.ts';
import { changeFlows, countingReviews, reviewsByPr, stages, type ChangeFlow, type Stage } from './flow.ts';
import { folderKnowledge, type FolderKnowledge } from './knowledge.ts';
import { gini, mean, median, present, quantile, weekSeconds, weeksBetween, weekStart } from './stats.ts';
import { computeBottleneck, type Bottleneck } from './bottleneck.ts';
import { computeWarnings, type Warning } from './warnings.ts';

export const provenanceClasses: ProvenanceClass[] = ['human', 'ai-assisted', 'agent', 'automation'];

/** Distribution of a span (seconds). */
export interface SpanStats {
  p50: number | null;
  p90: number | null;
  mean: number | null;
  /** Sum over the changes that have it: the basis of each stage's share. */
  total: number;
  count: number;
}

/** Per-week figures for the trend charts; spans in seconds. */
export interface WeekPoint {
  week: number;
  changes: number;
  deployments: number;
  leadTimeP50: number | null;
  stagesP50: Record<Stage, number | null>;
  stagesP90: Record<Stage, number | null>;
  reviewQueue: number;
  ciSuccess: number | null;
  ciRuns: number;
  reverted: number;
  defectInducing: number;
  mix: Record<ProvenanceClass, number>;
  byTeam: Record<string, number>;
  byAuthor: Record<string, number>;
}

/** Outcomes of one provenance class or tool. */
export interface OutcomeRow {
  key: string;
  changes: number;
  /** PRs with events (merged or closed) whose author is of this class/tool. */
  prs: number;
  mergeRate: number | null;
  timeToMergeP50: number | null;
  sizeP50: number | null;
  defectInducing: number;
  defectRate: number | null;
  reverted: number;
  revertRate: number | null;
}

export interface LaneRow {
  lane: string;
  tool: string | null;
  changes: number;
  /** Defect-inducing (or, without labels, reverted) changes that went through the lane. */
  escapes: number;
  rate: number | null;
  evidence: string[];
}

export interface ReviewerLoad {
  reviewer: string;
  reviews: number;
  prs: number;
  share: number;
}

export interface FlowMetrics {
  repoKey: string;
  period: Period;
  label: string;
  generatedAt: number;
  coverage: {
    changes: number;
    prsWithEvents: number;
    prsDerived: number;
    reviews: number;
    checks: number;
    deploymentsDerived: number;
    incidentsDerived: number;
    labels: Availability;
    lanes: Availability;
    /** Inputs that could not be used (FlowData.problems). */
    problems: string[];
  };
  summary: { changes: number; authors: number; linesChanged: number; aiShare: number | null };
  dora: DoraMetrics;
  flow: { stages: Record<Stage, SpanStats>; leadTime: SpanStats; splitChanges: number };
  weekly: WeekPoint[];
  review: { timeToFirstReview: SpanStats; reviewers: ReviewerLoad[]; topThreeShare: number | null; gini: number | null; queueNow: number };
  teams: string[];
  ci: { rate: number | null; runs: number };
  provenance: { byClass: OutcomeRow[]; byTool: OutcomeRow[] };
  lanes: { status: Availability; outcome: 'defect-inducing' | 'reverted'; rows: LaneRow[] };
  knowledge: FolderKnowledge[];
  warnings: Warning[];
  bottleneck: Bottleneck;
}

export interface ComputeOptions {
  period: Period;
  /** Name shown for this view (a period, a pilot group). */
  label?: string;
  /** Only changes (and PRs) by these people count: used to compare pilot teams with the rest. */
  include?: (author: string, email: string | null) => boolean;
  /** Fixed clock for reproducible output. */
  now?: number;
}

/** Distribution of spans. */
export function spanStats(values: readonly (number | null)[]): SpanStats {
  const v = present(values);
  let total = 0;
  for (const x of v) total += x;
  return { p50: median(v), p90: quantile(v, 0.9), mean: mean(v), total, count: v.length };
}

/** Provenance of a PR that never landed: the change's when it merged, else from its author and branch. */
function prProvenance(pr: FlowPullRequest, changeOf: Map<number, FlowChange>): { class: ProvenanceClass; tool: string | null } {
  const change = changeOf.get(pr.number);
  if (change !== undefined) return { class: change.provenance, tool: change.tool };
  const login = pr.author ?? '';
  const p = detectProvenance(
    {
      author: { name: login, email: '' },
      committer: { name: '', email: '' },
      subject: '',
      body: '',
      trailers: [],
      headBranch: pr.headBranch,
      commits: [],
      notes: [],
      prAuthorLogin: login,
    },
    builtinSignatures,
  );
  return { class: p.class, tool: p.tool };
}

/** Everything the report shows, for one period (and optionally one group of people). */
export function computeMetrics(data: FlowData, options: ComputeOptions): FlowMetrics {
  const { period } = options;
  const include = options.include ?? (() => true);
  const allFlows = changeFlows(data);
  const flows = allFlows.filter((f) => include(f.change.author, f.change.authorEmail));
  const inPeriod = flows.filter((f) => within(f.mergedAt, period));
  const weeks = weeksBetween(period.from, period.to);
  const weekIndex = new Map(weeks.map((w, i) => [w, i]));
  const changeById = new Map(data.changes.map((c) => [c.id, c]));
  const changeByPr = new Map<number, FlowChange>();
  for (const c of data.changes) if (c.prNumber !== null) changeByPr.set(c.prNumber, c);
  const reverted = new Set(data.reverts.map((r) => r.revertedChangeId));
  const prsAll = data.pullRequests.filter((pr) => !pr.derived && include(pr.author ?? '', null));
  const byPrReviews = reviewsByPr(data.reviews);

  const dora = computeDora(data, flows, period);

  const stageStats = Object.fromEntries(stages.map((s) => [s, spanStats(inPeriod.map((f) => f.stages[s]))])) as Record<Stage, SpanStats>;
  const leadTime = spanStats(
    flows.filter((f) => within(dora.leadTime.basis === 'deployment' ? (f.deployment?.at ?? null) : f.mergedAt, period)).map((f) => f.leadTime),
  );

  // Weekly series.
  const emptyStages = (): Record<Stage, number | null> => ({ coding: null, pickup: null, review: null, deploy: null });
  const weekly: WeekPoint[] = weeks.map((week) => ({
    week,
    changes: 0,
    deployments: 0,
    leadTimeP50: null,
    stagesP50: emptyStages(),
    stagesP90: emptyStages(),
    reviewQueue: 0,
    ciSuccess: null,
    ciRuns: 0,
    reverted: 0,
    defectInducing: 0,
    mix: { human: 0, 'ai-assisted': 0, agent: 0, automation: 0 },
    byTeam: {},
    byAuthor: {},
  }));
  const teamOf = teamIndex(data);
  const stageValues = weeks.map(() => ({ coding: [] as number[], pickup: [] as number[], review: [] as number[], deploy: [] as number[] }));
  const leadValues = weeks.map(() => [] as number[]);
  for (const f of inPeriod) {
    const i = weekIndex.get(weekStart(f.mergedAt));
    const point = i === undefined ? undefined : weekly[i];
    if (point === undefined || i === undefined) continue;
    point.changes++;
    point.mix[f.change.provenance]++;
    point.byAuthor[f.change.author] = (point.byAuthor[f.change.author] ?? 0) + 1;
    for (const team of teamOf(f.change.author, f.change.authorEmail)) point.byTeam[team] = (point.byTeam[team] ?? 0) + 1;
    if (reverted.has(f.change.id)) point.reverted++;
    if (data.defectInducing.has(f.change.id)) point.defectInducing++;
    for (const s of stages) {
      const v = f.stages[s];
      if (v !== null) stageValues[i]?.[s].push(v);
    }
  }
  for (const f of flows) {
    const at = dora.leadTime.basis === 'deployment' ? (f.deployment?.at ?? null) : f.mergedAt;
    if (at === null || f.leadTime === null || !within(at, period)) continue;
    const i = weekIndex.get(weekStart(at));
    if (i !== undefined) leadValues[i]?.push(f.leadTime);
  }
  weekly.forEach((point, i) => {
    for (const s of stages) {
      const values = stageValues[i]?.[s] ?? [];
      point.stagesP50[s] = median(values);
      point.stagesP90[s] = quantile(values, 0.9);
    }
    point.leadTimeP50 = median(leadValues[i] ?? []);
  });
  for (const d of data.deployments) {
    if (d.result !== 'success' || !within(d.at, period) || !productionEnvironment.test(d.environment)) continue;
    const i = weekIndex.get(weekStart(d.at));
    const point = i === undefined ? undefined : weekly[i];
    if (point !== undefined) point.deployments++;
  }

  // Review queue: PRs ready for review, not yet closed, with no review from someone else, at each week's end.
  const firstReview = new Map<number, number | null>();
  for (const pr of prsAll) firstReview.set(pr.number, countingReviews(pr, byPrReviews.get(pr.number) ?? [])[0]?.at ?? null);
  for (const point of weekly) {
    const t = point.week + weekSeconds;
    let waiting = 0;
    for (const pr of prsAll) {
      if (pr.readyAt === null || pr.readyAt > t) continue;
      if (pr.closedAt !== null && pr.closedAt <= t) continue;
      const fr = firstReview.get(pr.number) ?? null;
      if (fr !== null && fr <= t) continue;
      waiting++;
    }
    point.reviewQueue = waiting;
  }

  // Main-branch CI.
  const mainline = new Set(data.changes.map((c) => c.sha));
  const mainChecks = data.checks.filter(
    (c) => within(c.at, period) && ['success', 'failure', 'timed_out'].includes(c.conclusion) && (data.branch !== null && c.branch !== null ? c.branch === data.branch : mainline.has(c.sha)),
  );
  for (const c of mainChecks) {
    const point = weekly[weekIndex.get(weekStart(c.at)) ?? -1];
    if (point === undefined) continue;
    point.ciRuns++;
    point.ciSuccess = (point.ciSuccess ?? 0) + (c.conclusion === 'success' ? 1 : 0);
  }
  for (const point of weekly) if (point.ciRuns > 0) point.ciSuccess = (point.ciSuccess ?? 0) / point.ciRuns;
  const ciOk = mainChecks.filter((c) => c.conclusion === 'success').length;

  // Review: time to first review and reviewer load.
  const prsInPeriod = prsAll.filter((pr) => within(pr.readyAt, period));
  const timeToFirstReview = spanStats(prsInPeriod.map((pr) => {
    const fr = firstReview.get(pr.number) ?? null;
    return pr.readyAt === null || fr === null || fr < pr.readyAt ? null : fr - pr.readyAt;
  }));
  const load = new Map<string, { reviews: number; prs: Set<number> }>();
  for (const pr of prsAll) {
    for (const r of countingReviews(pr, byPrReviews.get(pr.number) ?? [])) {
      if (!within(r.at, period)) continue;
      const l = load.get(r.reviewer) ?? { reviews: 0, prs: new Set() };
      l.reviews++;
      l.prs.add(pr.number);
      load.set(r.reviewer, l);
    }
  }
  const totalReviews = [...load.values()].reduce((a, l) => a + l.reviews, 0);
  const reviewers: ReviewerLoad[] = [...load.entries()]
    .map(([reviewer, l]) => ({ reviewer, reviews: l.reviews, prs: l.prs.size, share: totalReviews === 0 ? 0 : l.reviews / totalReviews }))
    .sort((a, b) => b.reviews - a.reviews);
  const topThree = reviewers.slice(0, 3).reduce((a, r) => a + r.reviews, 0);

  // Outcomes per provenance class and per tool.
  const outcomeRows = (keyOf: (c: FlowChange) => string | null, prKey: (pr: FlowPullRequest) => string | null): OutcomeRow[] => {
    const keys = new Map<string, ChangeFlow[]>();
    for (const f of inPeriod) {
      const k = keyOf(f.change);
      if (k === null) continue;
      const list = keys.get(k) ?? [];
      list.push(f);
      keys.set(k, list);
    }
    const prGroups = new Map<string, FlowPullRequest[]>();
    for (const pr of prsAll) {
      if (pr.closedAt === null || !within(pr.closedAt, period)) continue;
      const k = prKey(pr);
      if (k === null) continue;
      const list = prGroups.get(k) ?? [];
      list.push(pr);
      prGroups.set(k, list);
    }
    const all = new Set([...keys.keys(), ...prGroups.keys()]);
    return [...all]
      .map((key) => {
        const list = keys.get(key) ?? [];
        const prs = prGroups.get(key) ?? [];
        const merged = prs.filter((pr) => pr.mergedAt !== null).length;
        const defects = list.filter((f) => data.defectInducing.has(f.change.id)).length;
        const revs = list.filter((f) => reverted.has(f.change.id)).length;
        return {
          key,
          changes: list.length,
          prs: prs.length,
          mergeRate: prs.length === 0 ? null : merged / prs.length,
          timeToMergeP50: median(present(list.map((f) => (f.pr !== null && !f.pr.derived ? (f.pr.openedAt === null ? null : f.mergedAt - f.pr.openedAt) : f.mergedAt - Math.min(f.change.codingStartedAt, f.change.commitTime))))),
          sizeP50: median(list.map((f) => f.change.linesAdded + f.change.linesDeleted)),
          defectInducing: defects,
          defectRate: data.labels === 'available' && list.length > 0 ? defects / list.length : null,
          reverted: revs,
          revertRate: list.length === 0 ? null : revs / list.length,
        };
      })
      .sort((a, b) => b.changes - a.changes);
  };
  const byClass = outcomeRows((c) => c.provenance, (pr) => prProvenance(pr, changeByPr).class);
  const byTool = outcomeRows((c) => c.tool, (pr) => prProvenance(pr, changeByPr).tool);

  // Lane outcomes.
  const outcome = data.labels === 'available' ? 'defect-inducing' : 'reverted';
  const escaped = (id: number): boolean => (data.labels === 'available' ? data.defectInducing.has(id) : reverted.has(id));
  const laneGroups = new Map<string, { lane: string; tool: string | null; changes: number; escapes: number; evidence: string[] }>();
  for (const f of inPeriod) {
    const lane = data.tiers.get(f.change.id);
    if (lane === undefined) continue;
    for (const tool of f.change.tool === null ? [null] : [null, f.change.tool]) {
      const key = `${lane}\u0000${tool ?? ''}`;
      const g = laneGroups.get(key) ?? { lane, tool, changes: 0, escapes: 0, evidence: [] };
      g.changes++;
      if (escaped(f.change.id)) {
        g.escapes++;
        if (g.evidence.length < 10) g.evidence.push(f.change.sha.slice(0, 12));
      }
      laneGroups.set(key, g);
    }
  }
  const laneOrder = ['auto', 'light', 'standard', 'senior'];
  const laneRows = [...laneGroups.values()]
    .map((g) => ({ ...g, rate: g.changes === 0 ? null : g.escapes / g.changes }))
    .sort((a, b) => laneOrder.indexOf(a.lane) - laneOrder.indexOf(b.lane) || (a.tool ?? '').localeCompare(b.tool ?? ''));

  const activeSince = period.to - 180 * 86_400;
  const knowledge = folderKnowledge(
    data.files.filter((t) => {
      const c = changeById.get(t.changeId);
      return c !== undefined && c.commitTime < period.to && c.commitTime >= period.to - 365 * 86_400 && include(c.author, c.authorEmail);
    }),
    changeById,
    { activeSince },
  );

  const authors = new Set(inPeriod.map((f) => f.change.author));
  const ai = inPeriod.filter((f) => f.change.provenance === 'ai-assisted' || f.change.provenance === 'agent').length;
  const metrics: Omit<FlowMetrics, 'warnings' | 'bottleneck'> = {
    repoKey: data.repoKey,
    period,
    label: options.label ?? '',
    generatedAt: options.now ?? Math.floor(Date.now() / 1000),
    coverage: {
      changes: inPeriod.length,
      prsWithEvents: inPeriod.filter((f) => f.split === 'pr').length,
      prsDerived: inPeriod.filter((f) => f.split === 'derived-pr').length,
      reviews: data.reviews.filter((r) => within(r.at, period)).length,
      checks: data.checks.filter((c) => within(c.at, period)).length,
      deploymentsDerived: dora.deployments.derived,
      incidentsDerived: dora.incidents.filter((i) => i.incident.derivedFrom !== null).length,
      labels: data.labels,
      lanes: data.lanes,
      problems: data.problems,
    },
    summary: {
      changes: inPeriod.length,
      authors: authors.size,
      linesChanged: inPeriod.reduce((a, f) => a + f.change.linesAdded + f.change.linesDeleted, 0),
      aiShare: inPeriod.length === 0 ? null : ai / inPeriod.length,
    },
    dora,
    flow: { stages: stageStats, leadTime, splitChanges: inPeriod.filter((f) => f.split === 'pr').length },
    weekly,
    review: {
      timeToFirstReview,
      reviewers,
      topThreeShare: totalReviews === 0 ? null : topThree / totalReviews,
      gini: gini(reviewers.map((r) => r.reviews)),
      queueNow: weekly[weekly.length - 1]?.reviewQueue ?? 0,
    },
    teams: data.teams.map((t) => t.name),
    ci: { rate: mainChecks.length === 0 ? null : ciOk / mainChecks.length, runs: mainChecks.length },
    provenance: { byClass, byTool },
    lanes: { status: data.lanes, outcome, rows: laneRows },
    knowledge,
  };
  const bottleneck = computeBottleneck(inPeriod, period);
  const warnings = computeWarnings({ data, flows: inPeriod, allFlows: flows, metrics, prs: prsAll, firstReview, period, reverted });
  return { ...metrics, bottleneck, warnings };
}

/** The teams a person belongs to, by name, e-mail or login (case-insensitive). */
export function teamIndex(data: Pick<FlowData, 'teams'>): (author: string, email: string | null) => string[] {
  const members = new Map<string, string[]>();
  for (const team of data.teams) {
    for (const m of team.members) {
      const key = m.toLowerCase();
      members.set(key, [...(members.get(key) ?? []), team.name]);
    }
  }
  return (author, email) => {
    const found = new Set([...(members.get(author.toLowerCase()) ?? []), ...(email === null ? [] : (members.get(email.toLowerCase()) ?? []))]);
    return [...found];
  };
}
