import type { FlowData, FlowPullRequest } from './data.ts';
import { productionDeployments, type ChangeFlow } from './flow.ts';
import { within, type Period } from './dora.ts';
import type { FlowMetrics } from './compute.ts';
import { productionEnvironment } from './load.ts';
import { median, newcombe, present, slope, weekSeconds, type Interval } from './stats.ts';

/** One piece of evidence behind a warning: a change, PR, person, folder, deployment or week. */
export interface Evidence {
  kind: 'change' | 'pr' | 'person' | 'folder' | 'deployment' | 'week';
  ref: string;
  detail: string;
}

export type WarningId =
  | 'individual-output-up-team-flat'
  | 'review-queue-growing'
  | 'quality-degrading'
  | 'senior-reviewers-overloaded'
  | 'knowledge-silos'
  | 'newcomers-little-review'
  | 'deployment-frequency-declining'
  | 'ai-failing-more'
  | 'main-success-declining';

/** A warning rule's verdict with its threshold, trend window and evidence. */
export interface Warning {
  id: WarningId;
  title: string;
  status: 'triggered' | 'ok' | 'insufficient-data';
  threshold: string;
  window: string;
  /** The measured value, in words. */
  value: string;
  interval?: Interval;
  evidence: Evidence[];
}

/** Weeks in each half of a trend comparison. */
export const trendWeeks = 8;
const maxEvidence = 15;
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

interface WarningInput {
  data: FlowData;
  flows: readonly ChangeFlow[];
  allFlows: readonly ChangeFlow[];
  metrics: Omit<FlowMetrics, 'warnings' | 'bottleneck'>;
  prs: readonly FlowPullRequest[];
  firstReview: ReadonlyMap<number, number | null>;
  period: Period;
  reverted: ReadonlySet<number>;
}

/** Evaluates every warning rule over the period (rules and thresholds in docs/metrics.md). */
export function computeWarnings(input: WarningInput): Warning[] {
  const { period } = input;
  const recent: Period = { from: period.to - trendWeeks * weekSeconds, to: period.to };
  const previous: Period = { from: recent.from - trendWeeks * weekSeconds, to: recent.from };
  const window = `last ${trendWeeks} weeks vs the ${trendWeeks} before`;
  const ctx = { ...input, recent, previous, window };
  return [
    individualOutput(ctx),
    reviewQueue(ctx),
    quality(ctx),
    reviewerLoad(ctx),
    silos(ctx),
    newcomers(ctx),
    deploymentFrequency(ctx),
    aiVersusHuman(ctx),
    mainSuccess(ctx),
  ];
}

type Ctx = WarningInput & { recent: Period; previous: Period; window: string };

function individualOutput(ctx: Ctx): Warning {
  const base = {
    id: 'individual-output-up-team-flat' as const,
    title: 'Individual output up while team delivery is flat',
    threshold: 'an author (automation excluded) with >= 4 recent changes and +50% or more, while team throughput grew < 10% or median lead time did not improve',
    window: ctx.window,
  };
  const count = (p: Period): Map<string, number> => {
    const m = new Map<string, number>();
    for (const f of ctx.flows) if (within(f.mergedAt, p)) m.set(f.change.author, (m.get(f.change.author) ?? 0) + 1);
    return m;
  };
  const now = count(ctx.recent);
  const before = count(ctx.previous);
  const teamNow = [...now.values()].reduce((a, b) => a + b, 0);
  const teamBefore = [...before.values()].reduce((a, b) => a + b, 0);
  if (teamBefore < 10) return { ...base, status: 'insufficient-data', value: `${teamBefore} changes in the earlier window`, evidence: [] };
  // Bots (dependency updaters) count in team throughput but are nobody's individual output.
  const bots = new Set(ctx.flows.filter((f) => f.change.provenance === 'automation').map((f) => f.change.author));
  const up = [...now.entries()]
    .filter(([author, n]) => !bots.has(author) && n >= 4 && n >= 1.5 * Math.max(1, before.get(author) ?? 0))
    .sort((a, b) => b[1] - a[1]);
  const lead = (p: Period): number | null => median(present(ctx.flows.filter((f) => within(f.mergedAt, p)).map((f) => f.leadTime)));
  const leadNow = lead(ctx.recent);
  const leadBefore = lead(ctx.previous);
  const teamGrowth = (teamNow - teamBefore) / teamBefore;
  const leadFlat = leadNow !== null && leadBefore !== null && leadNow >= leadBefore;
  const triggered = up.length > 0 && (teamGrowth < 0.1 || leadFlat);
  return {
    ...base,
    status: triggered ? 'triggered' : 'ok',
    value: `${up.length} author(s) up >= 50%; team throughput ${teamGrowth >= 0 ? '+' : ''}${pct(teamGrowth)}; median lead time ${leadBefore === null || leadNow === null ? 'n/a' : `${hours(leadBefore)} -> ${hours(leadNow)}`}`,
    evidence: up.slice(0, maxEvidence).map(([author, n]) => ({ kind: 'person', ref: author, detail: `${before.get(author) ?? 0} -> ${n} changes` })),
  };
}

function hours(seconds: number): string {
  return `${(seconds / 3600).toFixed(1)} h`;
}

function reviewQueue(ctx: Ctx): Warning {
  const base = {
    id: 'review-queue-growing' as const,
    title: 'Review queue growing',
    threshold: 'PRs waiting for a first review at week end: rising trend and the last week >= 1.25x the first (and +3 or more)',
    window: `last ${trendWeeks} weeks`,
  };
  if (ctx.prs.length === 0) return { ...base, status: 'insufficient-data', value: 'no pull request events', evidence: [] };
  const series = ctx.metrics.weekly.slice(-trendWeeks).map((w) => w.reviewQueue);
  const first = series[0] ?? 0;
  const last = series[series.length - 1] ?? 0;
  const s = slope(series) ?? 0;
  const triggered = s > 0 && last >= 1.25 * first && last - first >= 3;
  const end = ctx.period.to;
  const waiting = ctx.prs
    .filter((pr) => pr.readyAt !== null && pr.readyAt <= end && (pr.closedAt === null || pr.closedAt > end))
    .filter((pr) => {
      const fr = ctx.firstReview.get(pr.number) ?? null;
      return fr === null || fr > end;
    })
    .sort((a, b) => (a.readyAt ?? 0) - (b.readyAt ?? 0));
  return {
    ...base,
    status: triggered ? 'triggered' : 'ok',
    value: `${first} -> ${last} waiting (slope ${s.toFixed(2)}/week)`,
    evidence: waiting.slice(0, maxEvidence).map((pr) => ({ kind: 'pr', ref: `#${pr.number}`, detail: `waiting ${hours(end - (pr.readyAt ?? end))} by ${pr.author ?? '?'}` })),
  };
}

function quality(ctx: Ctx): Warning {
  const base = {
    id: 'quality-degrading' as const,
    title: 'Quality degrading',
    threshold: 'defect-inducing, revert or deployment failure rate up by >= 3 points with the 95% Newcombe interval of the rise above 0',
    window: ctx.window,
  };
  const inWindow = (p: Period): ChangeFlow[] => ctx.flows.filter((f) => within(f.mergedAt, p));
  const now = inWindow(ctx.recent);
  const before = inWindow(ctx.previous);
  if (now.length < 10 || before.length < 10) return { ...base, status: 'insufficient-data', value: `${before.length} and ${now.length} changes`, evidence: [] };
  const rates: { name: string; x1: number; n1: number; x2: number; n2: number; bad: (f: ChangeFlow) => boolean }[] = [];
  const revertedFn = (f: ChangeFlow): boolean => ctx.reverted.has(f.change.id);
  rates.push({ name: 'revert rate', x1: now.filter(revertedFn).length, n1: now.length, x2: before.filter(revertedFn).length, n2: before.length, bad: revertedFn });
  if (ctx.data.labels === 'available') {
    const di = (f: ChangeFlow): boolean => ctx.data.defectInducing.has(f.change.id);
    rates.push({ name: 'defect-inducing rate', x1: now.filter(di).length, n1: now.length, x2: before.filter(di).length, n2: before.length, bad: di });
  }
  const failed = new Set(ctx.metrics.dora.changeFailureRate.failedDeployments);
  const deps = (p: Period): string[] => ctx.data.deployments.filter((d) => within(d.at, p) && productionEnvironment.test(d.environment)).map((d) => d.id);
  const dNow = deps(ctx.recent);
  const dBefore = deps(ctx.previous);
  const values: string[] = [];
  let worst: { name: string; interval: Interval; bad: ((f: ChangeFlow) => boolean) | null } | null = null;
  for (const r of rates) {
    const ci = newcombe(r.x1, r.n1, r.x2, r.n2);
    if (ci === null) continue;
    values.push(`${r.name} ${pct(r.x2 / r.n2)} -> ${pct(r.x1 / r.n1)}`);
    if (ci.estimate >= 0.03 && ci.low > 0 && (worst === null || ci.estimate > worst.interval.estimate)) worst = { name: r.name, interval: ci, bad: r.bad };
  }
  if (dNow.length >= 5 && dBefore.length >= 5) {
    const x1 = dNow.filter((id) => failed.has(id)).length;
    const x2 = dBefore.filter((id) => failed.has(id)).length;
    const ci = newcombe(x1, dNow.length, x2, dBefore.length);
    values.push(`deployment failure rate ${pct(x2 / dBefore.length)} -> ${pct(x1 / dNow.length)}`);
    if (ci !== null && ci.estimate >= 0.03 && ci.low > 0 && (worst === null || ci.estimate > worst.interval.estimate)) worst = { name: 'deployment failure rate', interval: ci, bad: null };
  }
  if (worst === null) return { ...base, status: 'ok', value: values.join('; '), evidence: [] };
  const evidence: Evidence[] =
    worst.bad === null
      ? dNow.filter((id) => failed.has(id)).map((id) => ({ kind: 'deployment', ref: id, detail: 'failed or caused an incident' }))
      : now.filter(worst.bad).map((f) => ({ kind: 'change', ref: f.change.sha.slice(0, 12), detail: `${f.change.subject.slice(0, 80)} (${f.change.author})` }));
  return { ...base, status: 'triggered', value: values.join('; '), interval: worst.interval, evidence: evidence.slice(0, maxEvidence) };
}

function reviewerLoad(ctx: Ctx): Warning {
  const base = {
    id: 'senior-reviewers-overloaded' as const,
    title: 'Senior reviewers overloaded',
    threshold: 'the three busiest reviewers do >= 50% of reviews (with >= 5 reviewers), or one reviewer does >= 3x the median load',
    window: 'the whole period',
  };
  const reviewers = ctx.metrics.review.reviewers;
  if (reviewers.length < 2) return { ...base, status: 'insufficient-data', value: `${reviewers.length} reviewer(s)`, evidence: [] };
  const top = ctx.metrics.review.topThreeShare ?? 0;
  const med = median(reviewers.map((r) => r.reviews)) ?? 0;
  const heavy = reviewers.filter((r) => med > 0 && r.reviews >= 3 * med);
  const triggered = (reviewers.length >= 5 && top >= 0.5) || heavy.length > 0;
  const shown = heavy.length > 0 ? heavy : reviewers.slice(0, 3);
  return {
    ...base,
    status: triggered ? 'triggered' : 'ok',
    value: `top three do ${pct(top)} of ${reviewers.reduce((a, r) => a + r.reviews, 0)} reviews; median load ${med}`,
    evidence: shown.slice(0, maxEvidence).map((r) => ({ kind: 'person', ref: r.reviewer, detail: `${r.reviews} reviews on ${r.prs} PRs (${pct(r.share)})` })),
  };
}

function silos(ctx: Ctx): Warning {
  const base = {
    id: 'knowledge-silos' as const,
    title: 'Knowledge silos',
    threshold: 'a folder with >= 5 changes in a year and one active author (last 180 days) who is its main developer',
    window: 'last 365 days (active: last 180)',
  };
  const folders = ctx.metrics.knowledge;
  if (folders.length === 0) return { ...base, status: 'insufficient-data', value: 'no file data', evidence: [] };
  const found = folders.filter((f) => f.silo);
  return {
    ...base,
    status: found.length > 0 ? 'triggered' : 'ok',
    value: `${found.length} of ${folders.length} folders`,
    evidence: found.slice(0, maxEvidence).map((f) => ({ kind: 'folder', ref: f.folder, detail: `${f.mainDeveloper}: ${pct(f.mainShare)} of ${f.basis === 'lines' ? 'added lines' : 'changes (line counts unknown)'}, fragmentation ${f.fragmentation.toFixed(2)}, ${f.changes} changes` })),
  };
}

function newcomers(ctx: Ctx): Warning {
  const base = {
    id: 'newcomers-little-review' as const,
    title: "Newcomers' changes merged with little review",
    threshold: 'of PRs by authors whose first change is < 90 days old, >= 25% (and >= 2) merged with no review by someone else or within 10 minutes of it',
    window: ctx.window.replace(' vs the 8 before', ''),
  };
  const firstChange = new Map<string, number>();
  for (const f of ctx.allFlows) {
    const t = f.change.commitTime;
    if (!firstChange.has(f.change.author) || t < (firstChange.get(f.change.author) ?? t)) firstChange.set(f.change.author, t);
  }
  const theirs = ctx.flows.filter(
    (f) => f.split === 'pr' && within(f.mergedAt, ctx.recent) && f.mergedAt - (firstChange.get(f.change.author) ?? f.mergedAt) < 90 * 86_400,
  );
  if (theirs.length === 0) return { ...base, status: 'insufficient-data', value: 'no newcomer PRs with review events', evidence: [] };
  const light = theirs.filter((f) => f.firstReviewAt === null || f.mergedAt - f.firstReviewAt < 600);
  const triggered = light.length >= 2 && light.length / theirs.length >= 0.25;
  return {
    ...base,
    status: triggered ? 'triggered' : 'ok',
    value: `${light.length} of ${theirs.length} newcomer PRs`,
    evidence: light.slice(0, maxEvidence).map((f) => ({
      kind: 'pr',
      ref: `#${f.pr?.number ?? '?'}`,
      detail: `${f.change.author}: ${f.firstReviewAt === null ? 'no review' : `merged ${Math.round((f.mergedAt - f.firstReviewAt) / 60)} min after first review`}`,
    })),
  };
}

function deploymentFrequency(ctx: Ctx): Warning {
  const base = {
    id: 'deployment-frequency-declining' as const,
    title: 'Deployment frequency declining',
    threshold: 'successful production deployments down >= 25% (with >= 4 in the earlier window)',
    window: ctx.window,
  };
  const prod = productionDeployments(ctx.data.deployments);
  const now = prod.filter((d) => within(d.at, ctx.recent));
  const before = prod.filter((d) => within(d.at, ctx.previous));
  if (before.length < 4) return { ...base, status: 'insufficient-data', value: `${before.length} deployments in the earlier window`, evidence: [] };
  const change = (now.length - before.length) / before.length;
  return {
    ...base,
    status: change <= -0.25 ? 'triggered' : 'ok',
    value: `${before.length} -> ${now.length} (${change >= 0 ? '+' : ''}${pct(change)})`,
    evidence: now.slice(-maxEvidence).map((d) => ({ kind: 'deployment', ref: d.id, detail: new Date(d.at * 1000).toISOString().slice(0, 10) })),
  };
}

function aiVersusHuman(ctx: Ctx): Warning {
  const outcome = ctx.data.labels === 'available' ? 'defect-inducing' : 'reverted';
  const bad = (f: ChangeFlow): boolean => (outcome === 'defect-inducing' ? ctx.data.defectInducing.has(f.change.id) : ctx.reverted.has(f.change.id));
  const base = {
    id: 'ai-failing-more' as const,
    title: 'AI-written changes failing more than human ones',
    threshold: `${outcome} rate of ai-assisted + agent changes above human changes, with the 95% Newcombe interval of the difference above 0`,
    window: 'the whole period',
  };
  const ai = ctx.flows.filter((f) => f.change.provenance === 'ai-assisted' || f.change.provenance === 'agent');
  const human = ctx.flows.filter((f) => f.change.provenance === 'human');
  if (ai.length < 10 || human.length < 10) return { ...base, status: 'insufficient-data', value: `${ai.length} AI and ${human.length} human changes`, evidence: [] };
  const x1 = ai.filter(bad).length;
  const x2 = human.filter(bad).length;
  const ci = newcombe(x1, ai.length, x2, human.length);
  const value = `AI ${pct(x1 / ai.length)} (${x1}/${ai.length}) vs human ${pct(x2 / human.length)} (${x2}/${human.length})${ci === null ? '' : `; difference ${pct(ci.estimate)} [${pct(ci.low)}, ${pct(ci.high)}]`}`;
  const triggered = ci !== null && ci.low > 0;
  return {
    ...base,
    status: triggered ? 'triggered' : 'ok',
    value,
    ...(ci === null ? {} : { interval: ci }),
    evidence: triggered ? ai.filter(bad).slice(0, maxEvidence).map((f) => ({ kind: 'change', ref: f.change.sha.slice(0, 12), detail: `${f.change.tool ?? f.change.provenance}: ${f.change.subject.slice(0, 80)}` })) : [],
  };
}

function mainSuccess(ctx: Ctx): Warning {
  const base = {
    id: 'main-success-declining' as const,
    title: 'Main-branch CI success declining',
    threshold: 'success rate of main-branch runs down >= 5 points with the 95% Newcombe interval of the drop below 0',
    window: ctx.window,
  };
  const weeks = ctx.metrics.weekly;
  const sum = (p: Period): { ok: number; n: number } => {
    let ok = 0;
    let n = 0;
    for (const w of weeks) {
      if (!within(w.week, p) || w.ciRuns === 0) continue;
      n += w.ciRuns;
      ok += Math.round((w.ciSuccess ?? 0) * w.ciRuns);
    }
    return { ok, n };
  };
  const now = sum(ctx.recent);
  const before = sum(ctx.previous);
  if (now.n < 10 || before.n < 10) return { ...base, status: 'insufficient-data', value: `${before.n} and ${now.n} main-branch runs`, evidence: [] };
  const ci = newcombe(now.ok, now.n, before.ok, before.n);
  const triggered = ci !== null && ci.estimate <= -0.05 && ci.high < 0;
  const failing = weeks.filter((w) => within(w.week, ctx.recent) && w.ciRuns > 0).sort((a, b) => (a.ciSuccess ?? 1) - (b.ciSuccess ?? 1));
  return {
    ...base,
    status: triggered ? 'triggered' : 'ok',
    value: `${pct(before.ok / before.n)} -> ${pct(now.ok / now.n)}`,
    ...(ci === null ? {} : { interval: ci }),
    evidence: failing.slice(0, 5).map((w) => ({ kind: 'week', ref: new Date(w.week * 1000).toISOString().slice(0, 10), detail: `${pct(w.ciSuccess ?? 0)} of ${w.ciRuns} runs` })),
  };
}
