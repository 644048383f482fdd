import type { FlowMetrics } from '../../analyses/metrics/compute.ts';
import { stages } from '../../analyses/metrics/flow.ts';
import { isoDay } from '../../analyses/metrics/stats.ts';
import type { Report } from './build.ts';
import { formatDuration, formatPercent } from './views.ts';

function mdTable(headers: string[], rows: string[][]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${headers.map(esc).join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function keyFigures(m: FlowMetrics): [string, string][] {
  const d = m.dora;
  return [
    ['changes', String(m.summary.changes)],
    ['AI-written share', formatPercent(m.summary.aiShare)],
    ['deployment frequency', `${d.deployments.perWeek.toFixed(1)}/week (${d.deployments.band ?? 'no data'})`],
    ['lead time p50', `${formatDuration(d.leadTime.p50)} (${d.leadTime.band ?? 'no data'}, to ${d.leadTime.basis})`],
    ['change failure rate', `${formatPercent(d.changeFailureRate.rate)} (${d.changeFailureRate.band ?? 'no data'})`],
    ['time to restore p50', `${formatDuration(d.timeToRestore.p50)} (${d.timeToRestore.band ?? 'no data'})`],
    ...stages.map((s): [string, string] => [`${s} p50 / p90`, `${formatDuration(m.flow.stages[s].p50)} / ${formatDuration(m.flow.stages[s].p90)}`]),
    ['time to first review p50', formatDuration(m.review.timeToFirstReview.p50)],
    ['main-branch CI success', formatPercent(m.ci.rate)],
  ];
}

/** The report as Markdown (for terminals, PR comments and wikis). */
export function renderMarkdown(report: Report): string {
  const m = report.metrics;
  const out: string[] = [`# flowgate report: ${m.repoKey}`, '', `${isoDay(m.period.from)} .. ${isoDay(m.period.to - 1)}, ${m.summary.changes} changes by ${m.summary.authors} authors.`, ''];
  for (const problem of m.coverage.problems) out.push(`> **Warning:** ${problem.replace(/\n/g, ' ')}`, '');
  if (report.comparison.length > 1) {
    const figures = report.comparison.map(keyFigures);
    out.push('## Comparison', '', mdTable(['', ...report.comparison.map((v) => v.label)], (figures[0] ?? []).map(([name], i) => [name, ...figures.map((f) => f[i]?.[1] ?? '')])), '');
  }
  out.push('## Key figures', '', mdTable(['metric', 'value'], keyFigures(m).map(([a, b]) => [a, b])), '');
  const b = m.bottleneck;
  if (b.largest !== null) {
    out.push('## Bottleneck', '', `${b.largest} holds ${formatPercent(b.shares[b.largest] ?? null)} of flow time${b.grewMost === null ? '' : `; ${b.grewMost.stage} grew most`}.`);
    if (b.amdahl !== null) out.push(`Coding is ${formatPercent(b.amdahl.codingShare)}: twice-as-fast coding gives ${b.amdahl.speedupIfCoding2x.toFixed(2)}x, instant coding at most ${b.amdahl.speedupIfCodingFree.toFixed(2)}x.`);
    out.push('');
  } else if (b.measured.length === 1) {
    out.push('## Bottleneck', '', `Only ${b.measured.join('')} time can be measured without PR events or deployments: no bottleneck to name.`, '');
  }
  out.push('## Warning signs', '');
  for (const w of m.warnings) {
    out.push(`- **${w.status === 'triggered' ? 'TRIGGERED' : w.status}** ${w.title}: ${w.value}`);
    for (const e of w.evidence.slice(0, 5)) out.push(`  - \`${e.ref}\` ${e.detail}`);
  }
  out.push('', '## Provenance', '', mdTable(['class', 'changes', 'revert rate', 'defect-inducing rate'], m.provenance.byClass.map((r) => [r.key, String(r.changes), formatPercent(r.revertRate), r.defectRate === null ? 'not yet computed' : formatPercent(r.defectRate)])), '');
  out.push('## Lane outcomes', '', m.lanes.status === 'available' ? mdTable(['lane', 'tool', 'changes', 'escapes', 'rate'], m.lanes.rows.map((r) => [r.lane, r.tool ?? 'all', String(r.changes), String(r.escapes), formatPercent(r.rate)])) : 'not yet computed', '');
  return `${out.join('\n')}\n`;
}
