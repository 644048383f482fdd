import { createRequire } from 'node:module';
import type * as EChartsModule from 'echarts';
import type { FlowMetrics } from '../../analyses/metrics/compute.ts';
import { provenanceClasses } from '../../analyses/metrics/compute.ts';
import { stages } from '../../analyses/metrics/flow.ts';
import { isoDay } from '../../analyses/metrics/stats.ts';
import type { QueueOutlook } from '../../analyses/simulate/outlook.ts';

/** Colours shared by every chart (stages, provenance classes). */
export const palette = {
  coding: '#5470c6',
  pickup: '#fac858',
  review: '#ee6666',
  deploy: '#91cc75',
  human: '#5470c6',
  'ai-assisted': '#73c0de',
  agent: '#fc8452',
  automation: '#9a60b4',
};

type Option = Record<string, unknown>;

let echartsModule: typeof EChartsModule | undefined;
/**
 * ECharts, loaded on the first chart: its single-file CommonJS build loads in ~80 ms where the ESM
 * tree takes ~0.5-0.9 s, a cost every command paid at start-up when it was a static import.
 */
function echarts(): typeof EChartsModule {
  echartsModule ??= createRequire(import.meta.url)('echarts') as typeof EChartsModule;
  return echartsModule;
}

/**
 * Renders an ECharts option to an SVG string on the server (no DOM, no scripts): the report and the
 * dashboard embed the result as is.
 */
export function renderChart(option: Option, width = 720, height = 300): string {
  const chart = echarts().init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: 'system-ui, sans-serif' }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const hours = (s: number | null): number | null => (s === null ? null : Math.round((s / 3600) * 10) / 10);
const noData = (text: string): Option => ({
  title: { text, left: 'center', top: 'middle', textStyle: { color: '#888', fontSize: 14, fontWeight: 'normal' } },
  xAxis: { show: false },
  yAxis: { show: false },
  series: [],
});

/** The flow waterfall: median hours per stage, stacked so each starts where the previous ended. */
export function waterfallChart(m: FlowMetrics): string {
  const medians = stages.map((s) => hours(m.flow.stages[s].p50));
  if (medians.every((v) => v === null)) return renderChart(noData('No flow data in this period'));
  const bases: number[] = [];
  let acc = 0;
  for (const v of medians) {
    bases.push(acc);
    acc += v ?? 0;
  }
  return renderChart({
    title: { text: 'Median hours per stage (waterfall)', textStyle: { fontSize: 13 } },
    grid: { left: 60, right: 20, top: 40, bottom: 30 },
    xAxis: { type: 'category', data: [...stages, 'total'] },
    yAxis: { type: 'value', name: 'hours' },
    series: [
      { type: 'bar', stack: 'w', itemStyle: { color: 'transparent' }, data: [...bases, 0], silent: true },
      {
        type: 'bar',
        stack: 'w',
        label: { show: true, position: 'top' },
        // A stage with no data is labelled n/a, not drawn as a zero-length stage.
        data: [
          ...medians.map((v, i) => ({ value: v ?? 0, itemStyle: { color: palette[stages[i] ?? 'coding'] }, ...(v === null ? { label: { formatter: 'n/a', color: '#888' } } : {}) })),
          { value: Math.round(acc * 10) / 10, itemStyle: { color: '#555' } },
        ],
      },
    ],
  });
}

/** Weekly trends: median lead time and the p50 of each stage. */
export function trendsChart(m: FlowMetrics): string {
  if (m.weekly.length === 0) return renderChart(noData('No weeks in this period'));
  const weeks = m.weekly.map((w) => isoDay(w.week));
  return renderChart(
    {
      title: { text: 'Weekly medians (hours): lead time and stages', textStyle: { fontSize: 13 } },
      legend: { bottom: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 55 },
      xAxis: { type: 'category', data: weeks },
      yAxis: { type: 'log', name: 'hours', logBase: 10 },
      series: [
        { name: 'lead time', type: 'line', data: m.weekly.map((w) => positive(hours(w.leadTimeP50))), lineStyle: { width: 3 }, itemStyle: { color: '#333' }, connectNulls: true },
        ...stages.map((s) => ({ name: s, type: 'line', data: m.weekly.map((w) => positive(hours(w.stagesP50[s]))), itemStyle: { color: palette[s] }, connectNulls: true })),
      ],
    },
    900,
    320,
  );
}

/** A log axis cannot show zero: zero-length medians are drawn at 0.01 h. */
function positive(v: number | null): number | null {
  return v === null ? null : Math.max(v, 0.01);
}

/** Weekly throughput: changes merged and deployments, with the review queue. */
export function throughputChart(m: FlowMetrics): string {
  if (m.weekly.length === 0) return renderChart(noData('No weeks in this period'));
  const weeks = m.weekly.map((w) => isoDay(w.week));
  const teamSeries = m.teams.map((team) => ({ name: `team ${team}`, type: 'line', data: m.weekly.map((w) => w.byTeam[team] ?? 0) }));
  return renderChart(
    {
      title: { text: 'Weekly changes, deployments and review queue', textStyle: { fontSize: 13 } },
      legend: { bottom: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 55 },
      xAxis: { type: 'category', data: weeks },
      yAxis: { type: 'value' },
      series: [
        { name: 'changes', type: 'bar', data: m.weekly.map((w) => w.changes), itemStyle: { color: '#5470c6' } },
        { name: 'deployments', type: 'line', data: m.weekly.map((w) => w.deployments), itemStyle: { color: '#91cc75' } },
        { name: 'waiting for review', type: 'line', data: m.weekly.map((w) => w.reviewQueue), itemStyle: { color: '#ee6666' } },
        ...teamSeries,
      ],
    },
    900,
    320,
  );
}

/** Share of each provenance class among the changes merged per week. */
export function provenanceMixChart(m: FlowMetrics): string {
  if (m.weekly.length === 0) return renderChart(noData('No weeks in this period'));
  const weeks = m.weekly.map((w) => isoDay(w.week));
  return renderChart(
    {
      title: { text: 'Provenance mix per week (changes)', textStyle: { fontSize: 13 } },
      legend: { bottom: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 55 },
      xAxis: { type: 'category', data: weeks },
      yAxis: { type: 'value' },
      series: provenanceClasses.map((c) => ({
        name: c,
        type: 'bar',
        stack: 'mix',
        data: m.weekly.map((w) => w.mix[c]),
        itemStyle: { color: palette[c] },
      })),
    },
    900,
    300,
  );
}

/** Reviews per reviewer (the busiest 20). */
export function reviewerLoadChart(m: FlowMetrics): string {
  const top = m.review.reviewers.slice(0, 20).reverse();
  if (top.length === 0) return renderChart(noData('No review events: import reviews to see reviewer load'));
  return renderChart(
    {
      title: { text: 'Reviews per reviewer (busiest 20)', textStyle: { fontSize: 13 } },
      grid: { left: 140, right: 30, top: 40, bottom: 30 },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: top.map((r) => r.reviewer) },
      series: [{ type: 'bar', data: top.map((r) => r.reviews), itemStyle: { color: '#ee6666' }, label: { show: true, position: 'right' } }],
    },
    720,
    Math.max(200, 40 + top.length * 22),
  );
}

/** Knowledge map: folders sized by changes, coloured by how concentrated their authorship is. */
export function knowledgeChart(m: FlowMetrics): string {
  const folders = m.knowledge.slice(0, 60);
  if (folders.length === 0) return renderChart(noData('No file data in the last year'));
  return renderChart(
    {
      title: { text: 'Knowledge map: size = changes, red = one main developer', textStyle: { fontSize: 13 } },
      visualMap: { show: false, min: 0, max: 1, dimension: 1, inRange: { color: ['#d73027', '#fee08b', '#1a9850'] } },
      series: [
        {
          type: 'treemap',
          roam: false,
          nodeClick: false,
          breadcrumb: { show: false },
          top: 40,
          label: { show: true, formatter: '{b}', fontSize: 11 },
          data: folders.map((f) => ({ name: `${f.folder}${f.silo ? ' (silo)' : ''}`, value: [f.changes, f.fragmentation] })),
        },
      ],
    },
    900,
    420,
  );
}

/** Escapes per lane: changes through each tier and how many turned out bad. */
export function laneChart(m: FlowMetrics): string {
  const rows = m.lanes.rows.filter((r) => r.tool === null);
  if (rows.length === 0) return renderChart(noData('Lane outcomes: not yet computed (no gate decisions)'));
  return renderChart({
    title: { text: `Changes and escapes (${m.lanes.outcome}) per lane`, textStyle: { fontSize: 13 } },
    legend: { bottom: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 55 },
    xAxis: { type: 'category', data: rows.map((r) => r.lane) },
    yAxis: { type: 'value' },
    series: [
      { name: 'changes', type: 'bar', data: rows.map((r) => r.changes), itemStyle: { color: '#5470c6' } },
      { name: 'escapes', type: 'bar', data: rows.map((r) => r.escapes), itemStyle: { color: '#ee6666' } },
    ],
  });
}

/** Main-branch CI success per week. */
export function ciChart(m: FlowMetrics): string {
  if (m.ci.runs === 0) return renderChart(noData('No main-branch check events: import checks to see CI success'));
  const weeks = m.weekly.map((w) => isoDay(w.week));
  return renderChart(
    {
      title: { text: 'Main-branch CI success rate per week', textStyle: { fontSize: 13 } },
      grid: { left: 50, right: 20, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: weeks },
      yAxis: { type: 'value', min: 0, max: 1 },
      series: [{ type: 'line', data: m.weekly.map((w) => w.ciSuccess), connectNulls: true, itemStyle: { color: '#91cc75' } }],
    },
    900,
    260,
  );
}

/** The simulated review queue: wait p50/p90 per what-if (bars) and reviewer utilisation (line). */
export function queueOutlookChart(q: QueueOutlook): string {
  const names = q.scenarios.map((s) => s.name);
  return renderChart({
    title: { text: 'Review queue, simulated: wait for a reviewer (hours) and utilisation', textStyle: { fontSize: 13 } },
    legend: { top: 24 },
    grid: { left: 60, right: 60, top: 60, bottom: 40 },
    xAxis: { type: 'category', data: names },
    yAxis: [
      { type: 'value', name: 'hours' },
      { type: 'value', name: 'utilisation %', max: 100 },
    ],
    series: [
      { name: 'wait p50', type: 'bar', data: q.scenarios.map((s) => hours(s.waitP50 * 60)), itemStyle: { color: palette.pickup } },
      { name: 'wait p90', type: 'bar', data: q.scenarios.map((s) => hours(s.waitP90 * 60)), itemStyle: { color: palette.review } },
      { name: 'utilisation', type: 'line', yAxisIndex: 1, data: q.scenarios.map((s) => Math.round(s.utilisation * 100)), itemStyle: { color: palette.coding } },
    ],
  });
}
