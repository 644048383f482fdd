import type { Kysely } from 'kysely';
import { FlowgateError } from '../../core/errors.ts';
import type { Database } from '../../store/schema.ts';

/** The filters every read endpoint and dashboard page takes. */
export interface ReadFilters {
  /** Repository key (`owner/name` or a path). */
  repo?: string;
  /** Authors (names, e-mails or logins) of a team; empty means everyone. */
  authors?: string[];
  provenance?: string;
  /** Unix seconds. */
  since?: number;
  until?: number;
  limit: number;
}

const provenances = new Set(['human', 'ai-assisted', 'agent', 'automation']);

/** Reads filters from query parameters: repo, provenance, since/until (ISO date or Unix seconds) or period (7d, 30d, 90d, 365d), limit. */
export function readFilters(query: Record<string, string>, now = Math.floor(Date.now() / 1000)): ReadFilters {
  const filters: ReadFilters = { limit: 100 };
  if (query['repo']) filters.repo = query['repo'];
  const provenance = query['provenance'];
  if (provenance) {
    if (!provenances.has(provenance)) throw new FlowgateError('USAGE', `Unknown provenance "${provenance}". Use one of: ${[...provenances].join(', ')}.`);
    filters.provenance = provenance;
  }
  const period = query['period'];
  if (period) {
    const match = /^(\d+)d$/.exec(period);
    if (match === null) throw new FlowgateError('USAGE', `period expects a number of days like 30d, got "${period}".`);
    filters.since = now - Number(match[1]) * 86_400;
  }
  for (const name of ['since', 'until'] as const) {
    const value = query[name];
    if (!value) continue;
    const seconds = /^\d+$/.test(value) ? Number(value) : Math.floor(Date.parse(value) / 1000);
    if (Number.isNaN(seconds)) throw new FlowgateError('USAGE', `${name} expects a date like 2025-01-31 or Unix seconds, got "${value}".`);
    filters[name] = seconds;
  }
  const limit = query['limit'];
  if (limit) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 5000) throw new FlowgateError('USAGE', `limit expects a whole number from 1 to 5000, got "${limit}".`);
    filters.limit = n;
  }
  return filters;
}

/** One change as the API returns it. */
export interface ChangeSummary {
  repo: string;
  sha: string;
  subject: string;
  author: string;
  time: number;
  provenance: string;
  tool: string | null;
  prNumber: number | null;
  linesAdded: number;
  linesDeleted: number;
}

function changesQuery(db: Kysely<Database>, filters: ReadFilters) {
  let query = db.selectFrom('changes').innerJoin('repositories', 'repositories.id', 'changes.repo_id');
  if (filters.repo !== undefined) query = query.where('repositories.key', '=', filters.repo);
  if (filters.provenance !== undefined) query = query.where('changes.provenance', '=', filters.provenance as never);
  if (filters.since !== undefined) query = query.where('changes.commit_time', '>=', filters.since);
  if (filters.until !== undefined) query = query.where('changes.commit_time', '<', filters.until);
  if (filters.authors !== undefined && filters.authors.length > 0) {
    const authors = filters.authors;
    query = query.where((eb) => eb.or([eb('changes.author_email', 'in', authors), eb('changes.author_name', 'in', authors)]));
  }
  return query;
}

/** The newest changes matching the filters. */
export async function queryChanges(db: Kysely<Database>, filters: ReadFilters): Promise<ChangeSummary[]> {
  const rows = await changesQuery(db, filters)
    .select([
      'repositories.key as repo',
      'changes.sha',
      'changes.subject',
      'changes.author_name',
      'changes.commit_time',
      'changes.provenance',
      'changes.tool',
      'changes.pr_number',
      'changes.lines_added',
      'changes.lines_deleted',
    ])
    .orderBy('changes.commit_time', 'desc')
    .limit(filters.limit)
    .execute();
  return rows.map((r) => ({
    repo: r.repo,
    sha: r.sha,
    subject: r.subject,
    author: r.author_name,
    time: r.commit_time,
    provenance: r.provenance,
    tool: r.tool,
    prNumber: r.pr_number,
    linesAdded: r.lines_added,
    linesDeleted: r.lines_deleted,
  }));
}

/** Figures over the filtered changes and decisions. */
export interface MetricsSummary {
  changes: number;
  linesChanged: number;
  byProvenance: Record<string, number>;
  /** Changes per ISO week start (Unix seconds of the Monday), by provenance. */
  weekly: { week: number; provenance: string; changes: number }[];
  decisions: { byTier: Record<string, number>; autoMerged: number };
}

/** Counts by provenance and week, and the gate's decisions by tier. */
export async function queryMetrics(db: Kysely<Database>, filters: ReadFilters): Promise<MetricsSummary> {
  const rows = await changesQuery(db, filters).select(['changes.commit_time', 'changes.provenance', 'changes.lines_added', 'changes.lines_deleted']).execute();
  const byProvenance: Record<string, number> = {};
  const weekly = new Map<string, { week: number; provenance: string; changes: number }>();
  let lines = 0;
  for (const r of rows) {
    byProvenance[r.provenance] = (byProvenance[r.provenance] ?? 0) + 1;
    lines += r.lines_added + r.lines_deleted;
    // 1970-01-01 was a Thursday: shift by 3 days so weeks start on Monday.
    const week = Math.floor((r.commit_time + 3 * 86_400) / 604_800) * 604_800 - 3 * 86_400;
    const key = `${week}:${r.provenance}`;
    const entry = weekly.get(key) ?? { week, provenance: r.provenance, changes: 0 };
    entry.changes++;
    weekly.set(key, entry);
  }
  let decisions = db.selectFrom('pr_decisions').select(['tier', 'merged']);
  if (filters.repo !== undefined) decisions = decisions.where('repo', '=', filters.repo);
  if (filters.since !== undefined) decisions = decisions.where('created_at', '>=', filters.since);
  if (filters.until !== undefined) decisions = decisions.where('created_at', '<', filters.until);
  const byTier: Record<string, number> = {};
  let autoMerged = 0;
  for (const d of await decisions.execute()) {
    byTier[d.tier] = (byTier[d.tier] ?? 0) + 1;
    autoMerged += d.merged;
  }
  return {
    changes: rows.length,
    linesChanged: lines,
    byProvenance,
    weekly: [...weekly.values()].sort((a, b) => a.week - b.week || a.provenance.localeCompare(b.provenance)),
    decisions: { byTier, autoMerged },
  };
}

/** One published decision. */
export interface DecisionSummary {
  repo: string;
  prNumber: number;
  headSha: string;
  tier: string;
  conclusion: string;
  merged: boolean;
  reasons: string[];
  time: number;
}

/** The newest decisions the service published. */
export async function queryDecisions(db: Kysely<Database>, filters: ReadFilters): Promise<DecisionSummary[]> {
  let query = db.selectFrom('pr_decisions').selectAll();
  if (filters.repo !== undefined) query = query.where('repo', '=', filters.repo);
  if (filters.since !== undefined) query = query.where('created_at', '>=', filters.since);
  if (filters.until !== undefined) query = query.where('created_at', '<', filters.until);
  const rows = await query.orderBy('id', 'desc').limit(filters.limit).execute();
  return rows.map((r) => ({
    repo: r.repo,
    prNumber: r.pr_number,
    headSha: r.head_sha,
    tier: r.tier,
    conclusion: r.conclusion,
    merged: r.merged === 1,
    reasons: (JSON.parse(r.decision) as { reasons?: string[] }).reasons ?? [],
    time: r.created_at,
  }));
}
