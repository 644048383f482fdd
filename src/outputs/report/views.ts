import type { FlowMetrics, OutcomeRow } from '../../analyses/metrics/compute.ts';
import type { Band } from '../../analyses/metrics/dora.ts';
import { stages } from '../../analyses/metrics/flow.ts';
import { isoDay } from '../../analyses/metrics/stats.ts';
import type { Warning } from '../../analyses/metrics/warnings.ts';
import type { QueueOutlook } from '../../analyses/simulate/outlook.ts';
import { ciChart, knowledgeChart, laneChart, provenanceMixChart, queueOutlookChart, reviewerLoadChart, throughputChart, trendsChart, waterfallChart } from './charts.ts';

/**
 * View functions: each takes computed metrics and returns an HTML fragment (charts are inline SVG),
 * so the report page and the dashboard compose the same pieces.
 */

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** A duration for people: minutes, hours or days. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return 'n/a';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** A share as a percentage. */
export function formatPercent(value: number | null, digits = 1): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(digits)}%`;
}

/** A chart container: the dashboard and the browser test look for `.chart > svg`. */
export function chartFigure(name: string, svg: string): string {
  return `<figure class="chart" data-chart="${escapeHtml(name)}">${svg}</figure>`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

function table(headers: string[], rows: string[][]): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function bandBadge(band: Band | null): string {
  return band === null ? '<span class="band none">no data</span>' : `<span class="band ${band}">${band}</span>`;
}

/** Headline figures and what the data covers (events vs derived from git). */
export function renderSummary(m: FlowMetrics): string {
  const c = m.coverage;
  const derived: string[] = [];
  if (c.prsDerived > 0) derived.push(`${c.prsDerived} PRs from merge/squash messages`);
  if (c.deploymentsDerived > 0) derived.push(`${c.deploymentsDerived} deployments from release tags`);
  if (c.incidentsDerived > 0) derived.push(`${c.incidentsDerived} failures from reverts and hotfixes`);
  const b = m.bottleneck;
  const bottleneck =
    b.largest === null
      ? b.measured.length === 1
        ? `Only ${b.measured.join('')} time can be measured without PR events or deployments, so there is no bottleneck to name: import them (docs/events.md).`
        : 'No stage data yet.'
      : `Bottleneck: <b>${b.largest}</b> holds ${formatPercent(b.shares[b.largest] ?? null, 0)} of flow time${b.grewMost === null ? '' : `; <b>${b.grewMost.stage}</b> grew most (${formatDuration(b.grewMost.before)} → ${formatDuration(b.grewMost.after)} mean)`}.`;
  return section(
    'summary',
    'Summary',
    `<p class="lead">${m.summary.changes} changes by ${m.summary.authors} authors between ${isoDay(m.period.from)} and ${isoDay(m.period.to)}; ${formatPercent(m.summary.aiShare)} AI-written (ai-assisted or agent). ${bottleneck}</p>
<p class="coverage">Data: ${c.prsWithEvents} changes with PR events, ${c.reviews} reviews, ${c.checks} checks.${derived.length > 0 ? ` <span class="derived">Derived (no events): ${derived.map(escapeHtml).join('; ')}.</span>` : ''} Defect labels: ${c.labels === 'available' ? 'available' : 'not yet computed'}; lanes: ${c.lanes === 'available' ? 'available' : 'not yet computed'}.</p>${c.problems.map((p) => `<p class="problem">${escapeHtml(p)}</p>`).join('')}`,
  );
}

/** The DORA four keys as tiles with their bands. */
export function renderDoraTiles(m: FlowMetrics): string {
  const d = m.dora;
  const tile = (name: string, value: string, detail: string, band: Band | null): string =>
    `<div class="tile"><div class="tile-name">${escapeHtml(name)}</div><div class="tile-value">${escapeHtml(value)}</div>${bandBadge(band)}<div class="tile-detail">${detail}</div></div>`;
  return section(
    'dora',
    'DORA four keys',
    `<div class="tiles">${[
      tile('Deployment frequency', `${d.deployments.perWeek.toFixed(1)}/week`, `${d.deployments.count} successful production deployments on ${d.deployments.deployDays} days${d.deployments.derived > 0 ? ` (${d.deployments.derived} from release tags)` : ''}`, d.deployments.band),
      tile('Lead time for changes', formatDuration(d.leadTime.p50), `median first commit → ${d.leadTime.basis === 'deployment' ? 'production' : 'merge (no deployments)'}, p90 ${formatDuration(d.leadTime.p90)}, ${d.leadTime.changes} changes`, d.leadTime.band),
      tile('Change failure rate', formatPercent(d.changeFailureRate.rate), `${d.changeFailureRate.failed} of ${d.changeFailureRate.total} deployments failed or caused an incident`, d.changeFailureRate.band),
      tile('Time to restore', formatDuration(d.timeToRestore.p50), `median incident opened → resolved, ${d.timeToRestore.resolved} of ${d.timeToRestore.incidents} resolved; ${d.incidents.filter((i) => i.attribution === 'none').length} caused by no deployment`, d.timeToRestore.band),
    ].join('')}</div>`,
  );
}

/** The flow waterfall with the bottleneck and Amdahl's arithmetic. */
export function renderFlow(m: FlowMetrics): string {
  const rows = stages.map((s) => {
    const st = m.flow.stages[s];
    return [s, formatDuration(st.p50), formatDuration(st.p90), formatDuration(st.mean), String(st.count), formatPercent(m.bottleneck.shares[s] ?? null)];
  });
  const a = m.bottleneck.amdahl;
  const amdahl =
    a === null
      ? ''
      : `<p class="amdahl">Coding is ${formatPercent(a.codingShare)} of flow time. Amdahl: coding twice as fast makes delivery ${a.speedupIfCoding2x.toFixed(2)}× faster (saves ${formatPercent(a.savedIfCoding2x)}); even instant coding caps it at ${Number.isFinite(a.speedupIfCodingFree) ? `${a.speedupIfCodingFree.toFixed(2)}×` : 'no limit'}. ${m.bottleneck.largest === 'coding' ? 'Coding itself holds the most time.' : `Speed up <b>${m.bottleneck.largest ?? 'n/a'}</b> instead.`}</p>`;
  const basis = m.bottleneck.basis === 'git-only' ? '<p class="derived">No PR events: the time before merge cannot be split and counts as coding.</p>' : '';
  return section(
    'flow',
    'Flow time by stage',
    `${chartFigure('waterfall', waterfallChart(m))}${table(['stage', 'p50', 'p90', 'mean', 'changes', 'share'], rows)}${amdahl}${basis}`,
  );
}

/** Weekly trends: stage medians, throughput, review queue, CI. */
export function renderTrends(m: FlowMetrics): string {
  return section(
    'trends',
    'Trends',
    `${chartFigure('trends', trendsChart(m))}${chartFigure('throughput', throughputChart(m))}${chartFigure('ci', ciChart(m))}<p>Main-branch CI success: ${formatPercent(m.ci.rate)} of ${m.ci.runs} runs. Time to first review: p50 ${formatDuration(m.review.timeToFirstReview.p50)}, p90 ${formatDuration(m.review.timeToFirstReview.p90)}.</p>`,
  );
}

function outcomeTable(rows: OutcomeRow[], label: string): string {
  return table(
    [label, 'changes', 'PRs', 'merge rate', 'time to merge p50', 'size p50 (lines)', 'defect-inducing', 'reverted'],
    rows.map((r) => [
      escapeHtml(r.key),
      String(r.changes),
      String(r.prs),
      formatPercent(r.mergeRate),
      formatDuration(r.timeToMergeP50),
      r.sizeP50 === null ? 'n/a' : String(Math.round(r.sizeP50)),
      r.defectRate === null ? 'not yet computed' : `${formatPercent(r.defectRate)} (${r.defectInducing})`,
      `${formatPercent(r.revertRate)} (${r.reverted})`,
    ]),
  );
}

/** Provenance mix over time and outcomes per class and tool. */
export function renderProvenance(m: FlowMetrics): string {
  return section(
    'provenance',
    'Provenance',
    `${chartFigure('provenance-mix', provenanceMixChart(m))}${outcomeTable(m.provenance.byClass, 'class')}${m.provenance.byTool.length > 0 ? outcomeTable(m.provenance.byTool, 'tool') : ''}`,
  );
}

/** Lane outcomes: escapes per review tier and per agent. */
export function renderLanes(m: FlowMetrics): string {
  if (m.lanes.status !== 'available') return section('lanes', 'Lane outcomes', `${chartFigure('lanes', laneChart(m))}<p class="derived">Lane outcomes: not yet computed (the gate has recorded no decisions for this repository).</p>`);
  const rows = m.lanes.rows.map((r) => [escapeHtml(r.lane), escapeHtml(r.tool ?? 'all'), String(r.changes), String(r.escapes), formatPercent(r.rate), escapeHtml(r.evidence.join(' '))]);
  return section('lanes', 'Lane outcomes', `${chartFigure('lanes', laneChart(m))}${table(['lane', 'agent/tool', 'changes', `escapes (${m.lanes.outcome})`, 'rate', 'evidence'], rows)}`);
}

function warningItem(w: Warning): string {
  const evidence = w.evidence.length === 0 ? '' : `<ul class="evidence">${w.evidence.map((e) => `<li><code>${escapeHtml(e.ref)}</code> ${escapeHtml(e.detail)}</li>`).join('')}</ul>`;
  return `<li class="warning ${w.status}"><span class="status">${w.status === 'triggered' ? '⚠' : w.status === 'ok' ? '✓' : '·'}</span> <b>${escapeHtml(w.title)}</b>: ${escapeHtml(w.value)}<div class="rule">Rule: ${escapeHtml(w.threshold)}. Window: ${escapeHtml(w.window)}.</div>${evidence}</li>`;
}

/** Warning signs, triggered first, each with its rule, window and evidence. */
export function renderWarnings(m: FlowMetrics): string {
  const order = { triggered: 0, ok: 1, 'insufficient-data': 2 };
  const sorted = [...m.warnings].sort((a, b) => order[a.status] - order[b.status]);
  return section('warnings', 'Warning signs', `<ul class="warnings">${sorted.map(warningItem).join('')}</ul>`);
}

/** Reviewer load and its concentration. */
export function renderReviewerLoad(m: FlowMetrics): string {
  return section(
    'reviewers',
    'Reviewer load',
    `${chartFigure('reviewer-load', reviewerLoadChart(m))}<p>${m.review.reviewers.length} reviewers; the three busiest do ${formatPercent(m.review.topThreeShare)} of reviews (Gini ${m.review.gini === null ? 'n/a' : m.review.gini.toFixed(2)}). Waiting for a first review now: ${m.review.queueNow}.</p>`,
  );
}

/** Knowledge map and silos. */
export function renderKnowledge(m: FlowMetrics): string {
  const silos = m.knowledge.filter((f) => f.silo).slice(0, 20);
  const rows = silos.map((f) => [escapeHtml(f.folder), escapeHtml(f.mainDeveloper), `${formatPercent(f.mainShare, 0)}${f.basis === 'lines' ? '' : ' of changes'}`, f.fragmentation.toFixed(2), String(f.changes)]);
  return section(
    'knowledge',
    'Knowledge map',
    `${chartFigure('knowledge', knowledgeChart(m))}${rows.length === 0 ? '<p>No knowledge silos.</p>' : table(['folder (silo)', 'main developer', 'share of added lines (else of changes)', 'fragmentation', 'changes'], rows)}`,
  );
}

/** Side-by-side key figures of several views (periods, or pilot teams against the rest). */
export function renderComparison(views: readonly FlowMetrics[]): string {
  if (views.length < 2) return '';
  const figures: [string, (m: FlowMetrics) => string][] = [
    ['changes', (m) => String(m.summary.changes)],
    ['AI-written share', (m) => formatPercent(m.summary.aiShare)],
    ['deployments / week', (m) => m.dora.deployments.perWeek.toFixed(1)],
    ['lead time p50', (m) => formatDuration(m.dora.leadTime.p50)],
    ['change failure rate', (m) => formatPercent(m.dora.changeFailureRate.rate)],
    ['time to restore p50', (m) => formatDuration(m.dora.timeToRestore.p50)],
    ...stages.map((s): [string, (m: FlowMetrics) => string] => [`${s} p50`, (m) => formatDuration(m.flow.stages[s].p50)]),
    ['time to first review p50', (m) => formatDuration(m.review.timeToFirstReview.p50)],
    ['main-branch CI success', (m) => formatPercent(m.ci.rate)],
    ['warnings triggered', (m) => String(m.warnings.filter((w) => w.status === 'triggered').length)],
  ];
  return section(
    'comparison',
    'Comparison',
    table(['', ...views.map((v) => v.label)], figures.map(([name, f]) => [escapeHtml(name), ...views.map((v) => escapeHtml(f(v)))])),
  );
}

const styles = `
body{font-family:system-ui,-apple-system,sans-serif;margin:0 auto;max-width:960px;padding:24px;color:#222;background:#fafafa}
h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
.sub{color:#666;margin-top:0}.lead{font-size:15px}.coverage,.rule{color:#666;font-size:13px}.derived{color:#8a6d00}.problem{color:#b2182b;font-size:13px;white-space:pre-wrap}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}.tile{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px}
.tile-name{font-size:13px;color:#666}.tile-value{font-size:26px;font-weight:600;margin:6px 0}.tile-detail{font-size:12px;color:#666;margin-top:6px}
.band{font-size:12px;padding:2px 8px;border-radius:10px;color:#fff}.band.elite{background:#1a9850}.band.high{background:#66bd63}.band.medium{background:#f4a582}.band.low{background:#d73027}.band.none{background:#aaa}
figure.chart{margin:12px 0;background:#fff;border:1px solid #eee;border-radius:6px;overflow:hidden}figure.chart svg{display:block;max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0;background:#fff}th,td{border:1px solid #e3e3e3;padding:4px 8px;text-align:left}th{background:#f0f0f0}
ul.warnings{list-style:none;padding:0}li.warning{background:#fff;border:1px solid #e3e3e3;border-left:4px solid #aaa;padding:8px 12px;margin:8px 0;border-radius:4px}
li.warning.triggered{border-left-color:#d73027}li.warning.ok{border-left-color:#1a9850}ul.evidence{font-size:12px;margin:6px 0 0;padding-left:18px}
`;

/** The whole self-contained report page: no scripts, no external resources. */
/** The review-queue simulation under the what-ifs (issue: when agents triple the changes, review is the constraint). */
export function renderQueueOutlook(q: QueueOutlook | null | undefined): string {
  if (q === undefined) return '';
  if (q === null) return section('queue', 'Review queue: what-ifs', '<p class="derived">Too few reviews to measure the review queue (at least 10 in the last 90 days): import review events (docs/events.md).</p>');
  const rows = q.scenarios.map((s) => [escapeHtml(s.name), String(s.requests), formatDuration(s.waitP50 * 60), formatDuration(s.waitP90 * 60), formatDuration(s.doneP90 * 60), s.meanQueue.toFixed(1), formatPercent(s.utilisation, 0)]);
  const unstable = q.utilisation >= 1 ? '<p class="problem">The measured queue is unstable (utilisation at or above 100%): waits grow with the horizon.</p>' : '';
  return section(
    'queue',
    'Review queue: what-ifs',
    `${chartFigure('queue-outlook', queueOutlookChart(q))}${unstable}<p>Measured on ${q.reviews} reviews of the last ${q.windowDays} days by ${q.reviewers} reviewers (utilisation ${formatPercent(q.utilisation, 0)}), then simulated (discrete events, seeded; docs/routing.md). Volume multiplies arrivals; the auto lane takes its share out of human review.</p>${table(['scenario', 'reviews', 'wait p50', 'wait p90', 'done p90', 'mean queue', 'utilisation'], rows)}`,
  );
}

export function renderReportPage(m: FlowMetrics, options: { comparison?: readonly FlowMetrics[]; queue?: QueueOutlook | null } = {}): string {
  const body = [
    renderSummary(m),
    renderComparison(options.comparison ?? []),
    renderDoraTiles(m),
    renderFlow(m),
    renderTrends(m),
    renderProvenance(m),
    renderLanes(m),
    renderWarnings(m),
    renderReviewerLoad(m),
    renderQueueOutlook(options.queue),
    renderKnowledge(m),
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>flowgate report: ${escapeHtml(m.repoKey)}</title><style>${styles}</style></head>
<body><h1>flowgate report: ${escapeHtml(m.repoKey)}</h1><p class="sub">${escapeHtml(m.label)} · generated ${new Date(m.generatedAt * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC · definitions: docs/metrics.md</p>
${body}
</body></html>
`;
}
