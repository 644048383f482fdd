import type { Kysely } from 'kysely';
import { FlowgateError } from '../../core/errors.ts';
import { findRepository } from '../../store/repositories.ts';
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

/**
 * The repository a `repo` filter names, through the store's lookup (its key, a mined clone's path,
 * or the hosted owner/name of a clone's origin), and every name the service's rows may carry for it.
 */
async function repoFilter(db: Kysely<Database>, repo: string): Promise<{ id: number | null; names: string[] }> {
  const found = await findRepository(db, repo);
  const names = new Set([repo]);
  if (found !== undefined) names.add(found.key);
  if (found?.remote != null) names.add(found.remote);
  return { id: found?.id ?? null, names: [...names] };
}

async function changesQuery(db: Kysely<Database>, filters: ReadFilters) {
  let query = db.selectFrom('changes').innerJoin('repositories', 'repositories.id', 'changes.repo_id');
  if (filters.repo !== undefined) query = query.where('changes.repo_id', '=', (await repoFilter(db, filters.repo)).id ?? -1);
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
  const rows = await (await changesQuery(db, filters))
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
  const rows = await (await changesQuery(db, filters)).select(['changes.commit_time', 'changes.provenance', 'changes.lines_added', 'changes.lines_deleted']).execute();
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
  if (filters.repo !== undefined) decisions = decisions.where('repo', 'in', (await repoFilter(db, filters.repo)).names);
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

/** One gate decision: published on a pull request by the service, or recorded by `flowgate check --record`. */
export interface DecisionSummary {
  /** The gate's `decisions.id`; null for a service decision stored before decisions were linked (0006). */
  id: number | null;
  /** Where it was made: 'service' (a pull request) or 'gate' (the CLI). */
  source: 'service' | 'gate';
  repo: string | null;
  subject: string;
  prNumber: number | null;
  headSha: string | null;
  tier: string | null;
  outcome: string | null;
  /** The check run conclusion the service published; null for CLI decisions. */
  conclusion: string | null;
  merged: boolean;
  reasons: string[];
  time: number;
}

function reasonsOf(json: string): string[] {
  try {
    const parsed = JSON.parse(json) as { reasons?: unknown };
    return Array.isArray(parsed.reasons) ? parsed.reasons.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The newest decisions, one record each: the gate's `decisions` table (CLI and service alike),
 * with what the service published on the pull request; plus service decisions stored before
 * the two were linked.
 */
export async function queryDecisions(db: Kysely<Database>, filters: ReadFilters): Promise<DecisionSummary[]> {
  let gate = db
    .selectFrom('decisions')
    .leftJoin('repositories', 'repositories.id', 'decisions.repo_id')
    .leftJoin('pr_decisions', 'pr_decisions.decision_id', 'decisions.id')
    .select([
      'decisions.id as id',
      'decisions.subject as subject',
      'decisions.outcome as outcome',
      'decisions.tier as tier',
      'decisions.decision as decision',
      'decisions.created_at as created_at',
      'repositories.key as repo_key',
      'pr_decisions.repo as pr_repo',
      'pr_decisions.pr_number as pr_number',
      'pr_decisions.head_sha as head_sha',
      'pr_decisions.conclusion as conclusion',
      'pr_decisions.merged as merged',
    ]);
  const named = filters.repo === undefined ? undefined : await repoFilter(db, filters.repo);
  if (named !== undefined) {
    gate = gate.where((eb) => eb.or([eb('decisions.repo_id', '=', named.id ?? -1), eb('pr_decisions.repo', 'in', named.names)]));
  }
  if (filters.since !== undefined) gate = gate.where('decisions.created_at', '>=', filters.since);
  if (filters.until !== undefined) gate = gate.where('decisions.created_at', '<', filters.until);
  let legacy = db.selectFrom('pr_decisions').selectAll().where('decision_id', 'is', null);
  if (named !== undefined) legacy = legacy.where('repo', 'in', named.names);
  if (filters.since !== undefined) legacy = legacy.where('created_at', '>=', filters.since);
  if (filters.until !== undefined) legacy = legacy.where('created_at', '<', filters.until);
  const [gateRows, legacyRows] = await Promise.all([gate.orderBy('decisions.id', 'desc').limit(filters.limit).execute(), legacy.orderBy('id', 'desc').limit(filters.limit).execute()]);
  const all: DecisionSummary[] = [
    ...gateRows.map((r): DecisionSummary => ({
      id: r.id,
      source: r.pr_number === null ? 'gate' : 'service',
      repo: r.pr_repo ?? r.repo_key,
      subject: r.subject,
      prNumber: r.pr_number,
      headSha: r.head_sha,
      tier: r.tier,
      outcome: r.outcome,
      conclusion: r.conclusion,
      merged: r.merged === 1,
      reasons: reasonsOf(r.decision),
      time: r.created_at,
    })),
    ...legacyRows.map((r): DecisionSummary => ({
      id: null,
      source: 'service',
      repo: r.repo,
      subject: `${r.repo}#${r.pr_number}@${r.head_sha}`,
      prNumber: r.pr_number,
      headSha: r.head_sha,
      tier: r.tier,
      outcome: null,
      conclusion: r.conclusion,
      merged: r.merged === 1,
      reasons: reasonsOf(r.decision),
      time: r.created_at,
    })),
  ];
  return all.sort((a, b) => b.time - a.time || (b.id ?? 0) - (a.id ?? 0)).slice(0, filters.limit);
}
