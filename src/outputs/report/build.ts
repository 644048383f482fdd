import { FlowgateError } from '../../core/errors.ts';
import { computeMetrics, teamIndex, type FlowMetrics } from '../../analyses/metrics/compute.ts';
import type { Period } from '../../analyses/metrics/dora.ts';
import { loadFlowData } from '../../analyses/metrics/load.ts';
import { isoDay } from '../../analyses/metrics/stats.ts';
import { queueOutlook, type QueueOutlook } from '../../analyses/simulate/outlook.ts';
import type { Store } from '../../store/store.ts';

const day = 86_400;

export interface ReportOptions {
  /** The main period; default: the 365 days up to the latest activity. */
  period?: Partial<Period>;
  /** Compare these periods (the last one is the main view). */
  compare?: Period[];
  /** Compare these teams (from the policy config) with everyone else. */
  pilot?: string[];
  /** Fixed clock for reproducible output. */
  now?: number;
}

/** The computed report: the main view and, in comparison mode, every compared view. */
export interface Report {
  metrics: FlowMetrics;
  comparison: FlowMetrics[];
  /** The review queue simulated under the what-ifs (volume, auto lane); null with too few reviews. */
  queue: QueueOutlook | null;
}

/** Parses `2025-01-01..2025-03-31` (inclusive end date) into a period. */
export function parsePeriod(text: string): Period {
  const m = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(text.trim());
  const from = m?.[1] === undefined ? NaN : Date.parse(`${m[1]}T00:00:00Z`) / 1000;
  const to = m?.[2] === undefined ? NaN : Date.parse(`${m[2]}T00:00:00Z`) / 1000 + day;
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) {
    throw new FlowgateError('USAGE', `--compare expects periods like 2025-01-01..2025-03-31, got "${text}".`);
  }
  return { from, to };
}

/** The time of the latest change or event: reports end there rather than at the wall clock. */
async function latestActivity(store: Store, repoId: number): Promise<number> {
  const change = await store.db.selectFrom('changes').select((eb) => eb.fn.max('commit_time').as('t')).where('repo_id', '=', repoId).executeTakeFirst();
  const event = await store.db.selectFrom('events').select((eb) => eb.fn.max('occurred_at').as('t')).where('repo_id', '=', repoId).executeTakeFirst();
  return Math.max(change?.t ?? 0, event?.t ?? 0);
}

function periodLabel(p: Period): string {
  return `${isoDay(p.from)}..${isoDay(p.to - 1)}`;
}

/** Loads a repository's data once and computes the report's views. */
export async function buildReport(store: Store, repoId: number, options: ReportOptions = {}): Promise<Report> {
  const end = options.period?.to ?? (await latestActivity(store, repoId)) + 1;
  const main: Period = { from: options.period?.from ?? end - 365 * day, to: end };
  const earliest = Math.min(main.from, ...(options.compare ?? []).map((p) => p.from));
  // Files feed only the knowledge map (a year before each period's end); older tags only serve as the
  // baseline deployment, so a year before the earliest period is plenty and saves reading all history.
  const windowStart = earliest - 365 * day;
  const data = await loadFlowData(store, repoId, { filesSince: windowStart, tagsSince: windowStart });
  const now = options.now;
  const base = now === undefined ? {} : { now };
  const queue = await queueOutlook(store, repoId);

  if (options.compare !== undefined && options.compare.length > 0) {
    const views = options.compare.map((period) => computeMetrics(data, { ...base, period, label: periodLabel(period) }));
    const last = views[views.length - 1];
    if (last === undefined) throw new FlowgateError('USAGE', 'Pass at least one period to --compare.');
    return { metrics: last, comparison: views, queue };
  }
  if (options.pilot !== undefined && options.pilot.length > 0) {
    const known = new Set(data.teams.map((t) => t.name));
    const unknown = options.pilot.filter((t) => !known.has(t));
    if (unknown.length > 0) {
      throw new FlowgateError(
        'USAGE',
        `--pilot names unknown team(s) ${unknown.join(', ')}; teams in the policy config: ${[...known].join(', ') || (data.problems[0] ?? 'none (add a teams section to .flowgate.yml)')}.`,
      );
    }
    const teamsOf = teamIndex(data);
    const pilots = new Set(options.pilot);
    const inPilot = (author: string, email: string | null): boolean => teamsOf(author, email).some((t) => pilots.has(t));
    const pilot = computeMetrics(data, { ...base, period: main, label: `pilot: ${options.pilot.join(', ')}`, include: inPilot });
    const rest = computeMetrics(data, { ...base, period: main, label: 'the rest', include: (a, e) => !inPilot(a, e) });
    return { metrics: computeMetrics(data, { ...base, period: main, label: periodLabel(main) }), comparison: [pilot, rest], queue };
  }
  return { metrics: computeMetrics(data, { ...base, period: main, label: periodLabel(main) }), comparison: [], queue };
}
