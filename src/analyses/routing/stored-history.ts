import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../store/schema.ts';
import { estimateReviewMinutes } from './estimate.ts';
import type { ReviewHistory, ReviewRecord } from './history.ts';
import type { OpenRequest, ReviewTier } from './select.ts';

const dayS = 86_400;

/** A reviewer as the events table names them (a login, or a name/e-mail) in the spec form routing matches on. */
export function reviewerSpec(actor: string): string {
  const a = actor.trim();
  if (a.startsWith('@') || a.includes('<') || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(a)) return a;
  return `@${a}`;
}

interface ReviewRow {
  actor: string | null;
  at: number;
  prNumber: number | null;
  path: string;
  prAuthor: string | null;
}

/**
 * A ReviewHistory over the review events in the store (imported with `flowgate import`, posted to
 * `/api/events` or backfilled from GitHub): a review of pull request #n is joined to the stored
 * change carrying `pr_number` n (a merge or squash of it) for its files. Several reviews by one
 * person of one pull request count once (the latest), and a pull request's author answering on it
 * is not a review.
 */
export function storedReviewHistory(db: Kysely<Database>, repoId: number): ReviewHistory {
  const base = () =>
    db
      .selectFrom('change_files as cf')
      .innerJoin('changes as c', 'c.id', 'cf.change_id')
      .innerJoin('events as e', (join) => join.onRef('e.repo_id', '=', 'c.repo_id').onRef('e.pr_number', '=', 'c.pr_number'))
      .leftJoin('events as o', (join) =>
        join.onRef('o.repo_id', '=', 'e.repo_id').onRef('o.pr_number', '=', 'e.pr_number').on('o.type', '=', 'pull_request').on('o.action', '=', 'opened'),
      )
      .select(['e.actor', 'e.occurred_at as at', 'e.pr_number as prNumber', 'cf.path', 'o.actor as prAuthor'])
      // The unary + keeps SQLite on the path index (this file's history) rather than every event of the repository.
      .where(sql`+c.repo_id`, '=', repoId)
      .where(sql`e.type || ''`, '=', 'review');
  return {
    reviewsTouching: async (paths, folders, since) => {
      const rows: ReviewRow[] = [];
      const wanted = [...new Set(paths)];
      for (let i = 0; i < wanted.length; i += 500) {
        rows.push(...(await base().where('cf.path', 'in', wanted.slice(i, i + 500)).where(sql`+e.occurred_at`, '>=', since).execute()));
      }
      for (const folder of new Set(folders)) {
        if (folder === '') continue;
        // '0' follows '/': the range is every path under the folder, on the path index.
        rows.push(...(await base().where('cf.path', '>=', `${folder}/`).where('cf.path', '<', `${folder}0`).where(sql`+e.occurred_at`, '>=', since).execute()));
      }
      const byReview = new Map<string, { reviewer: string; time: number; paths: Set<string> }>();
      for (const row of rows) {
        if (row.actor === null || row.prNumber === null) continue;
        if (row.prAuthor !== null && row.prAuthor.toLowerCase() === row.actor.toLowerCase()) continue;
        const reviewer = reviewerSpec(row.actor);
        const key = `${reviewer.toLowerCase()}#${row.prNumber}`;
        const entry = byReview.get(key) ?? { reviewer, time: row.at, paths: new Set<string>() };
        entry.time = Math.max(entry.time, row.at);
        entry.paths.add(row.path);
        byReview.set(key, entry);
      }
      return [...byReview.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([, r]): ReviewRecord => ({ reviewer: r.reviewer, time: r.time, paths: [...r.paths].sort() }));
    },
  };
}

export interface OpenRequestOptions {
  /** The decision time, Unix seconds: events after it are ignored. */
  now: number;
  /** A pull request with no event (and no service state update) for this many days is stale and holds no one. Default 30. */
  staleAfterDays?: number | undefined;
  /** The pull request being routed: its own requests are not load. */
  excludePr?: number | undefined;
  /** Minutes of a request whose size is unknown. Default 30. */
  defaultMinutes?: number | undefined;
}

/** One open review request with where it came from, for explanations. */
export interface StoredOpenRequest extends OpenRequest {
  prNumber: number;
  source: 'requested' | 'flowgate' | 'reviewing';
}

interface PrState {
  open: boolean | null;
  lastAt: number;
  author: string | null;
  requested: Set<string>;
  /** Logins flowgate itself asked to review. */
  byFlowgate: Set<string>;
  /** Latest review state per reviewer (lower-cased actor). */
  reviews: Map<string, { actor: string; state: string; at: number }>;
  added: number | null;
  deleted: number | null;
  tier: ReviewTier | null;
}

function loginsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v: unknown) => {
    if (typeof v === 'string' && v !== '') return [v];
    if (typeof v === 'object' && v !== null && typeof (v as { login?: unknown }).login === 'string') return [(v as { login: string }).login];
    return [];
  });
}

const isTier = (t: string | null | undefined): t is ReviewTier => t === 'auto' || t === 'light' || t === 'standard' || t === 'senior';

/**
 * Open review requests of a repository from the store, for load: on each pull request that is open
 * (by its pull_request events, or the service's `pr_states`) and active in the last
 * `staleAfterDays`, the people asked to review it (`requested_reviewers` in an event's payload, or
 * requested by flowgate itself, recorded in `side_effects`) and everyone who reviewed it without
 * approving, minus those whose latest review approves and minus its author. Each request weighs
 * the pull request's estimated review minutes (from `additions`/`deletions` in its payload and the
 * tier flowgate decided, else `defaultMinutes`). Deterministic: sorted by pull request and reviewer.
 */
export async function openRequestsFromStore(db: Kysely<Database>, repo: { id: number; key: string }, options: OpenRequestOptions): Promise<StoredOpenRequest[]> {
  const { now } = options;
  const since = now - (options.staleAfterDays ?? 30) * dayS;
  const defaultMinutes = options.defaultMinutes ?? 30;
  const active = await db
    .selectFrom('events')
    .select('pr_number')
    .distinct()
    .where('repo_id', '=', repo.id)
    .where('type', 'in', ['pull_request', 'review'])
    .where('occurred_at', '>=', since)
    .where('occurred_at', '<=', now)
    .where('pr_number', 'is not', null)
    .execute();
  const serviceOpen = await db.selectFrom('pr_states').select(['number', 'state', 'updated_at', 'author']).where('repo', '=', repo.key).where('updated_at', '>=', since).where('updated_at', '<=', now).execute();
  const numbers = new Set<number>();
  for (const row of active) if (row.pr_number !== null) numbers.add(row.pr_number);
  for (const row of serviceOpen) numbers.add(row.number);
  if (options.excludePr !== undefined) numbers.delete(options.excludePr);
  if (numbers.size === 0) return [];

  const states = new Map<number, PrState>();
  const stateOf = (n: number): PrState => {
    let s = states.get(n);
    if (s === undefined) {
      s = { open: null, lastAt: -Infinity, author: null, requested: new Set(), byFlowgate: new Set(), reviews: new Map(), added: null, deleted: null, tier: null };
      states.set(n, s);
    }
    return s;
  };
  const list = [...numbers].sort((a, b) => a - b);
  for (let i = 0; i < list.length; i += 500) {
    const chunk = list.slice(i, i + 500);
    const events = await db
      .selectFrom('events')
      .select(['pr_number', 'type', 'action', 'actor', 'result', 'occurred_at', 'payload', 'id'])
      .where('repo_id', '=', repo.id)
      .where('pr_number', 'in', chunk)
      .where('type', 'in', ['pull_request', 'review'])
      .where('occurred_at', '<=', now)
      .orderBy('occurred_at')
      .orderBy('id')
      .execute();
    for (const e of events) {
      if (e.pr_number === null) continue;
      const s = stateOf(e.pr_number);
      s.lastAt = Math.max(s.lastAt, e.occurred_at);
      if (e.type === 'pull_request') {
        if (e.action === 'opened' || e.action === 'ready') s.open = true;
        if (e.action === 'closed' || e.action === 'merged') s.open = false;
        if (e.action === 'opened' && e.actor !== null) s.author = e.actor;
        let payload: Record<string, unknown> = {};
        try {
          payload = JSON.parse(e.payload) as Record<string, unknown>;
        } catch {
          // A payload that is not JSON carries no extra fields.
        }
        for (const login of loginsOf(payload['requested_reviewers'])) s.requested.add(login);
        if (typeof payload['additions'] === 'number') s.added = payload['additions'];
        if (typeof payload['deletions'] === 'number') s.deleted = payload['deletions'];
      } else if (e.actor !== null) {
        s.reviews.set(e.actor.toLowerCase(), { actor: e.actor, state: e.result ?? 'commented', at: e.occurred_at });
      }
    }
  }
  for (const row of serviceOpen) {
    const s = stateOf(row.number);
    // The service's state is the newest GitHub told it; it wins over older events.
    if (row.updated_at >= s.lastAt || s.open === null) s.open = row.state === 'open';
    s.lastAt = Math.max(s.lastAt, row.updated_at);
    s.author ??= row.author;
  }
  // Reviewers flowgate asked for (src/sources/github/pull-request.ts records them under `reviewers:<repo>#<n>@<sha>`).
  const effects = await db
    .selectFrom('side_effects')
    .select(['key', 'result', 'created_at'])
    .where('kind', '=', 'reviewers')
    .where('key', '>=', `reviewers:${repo.key}#`)
    .where('key', '<', `reviewers:${repo.key}$`)
    .where('created_at', '<=', now)
    .execute();
  for (const effect of effects) {
    // The range is a fast prefilter; collations may order punctuation differently, so check the prefix too.
    if (!effect.key.startsWith(`reviewers:${repo.key}#`)) continue;
    const n = Number(/#(\d+)@/.exec(effect.key)?.[1]);
    const s = states.get(n);
    if (s === undefined) continue;
    try {
      for (const login of loginsOf(JSON.parse(effect.result))) s.byFlowgate.add(login);
    } catch {
      // An unreadable record requests no one.
    }
  }
  const decided = await db
    .selectFrom('pr_decisions')
    .select(['pr_number', 'tier', 'created_at'])
    .where('repo', '=', repo.key)
    .where('pr_number', 'in', list)
    .where('created_at', '<=', now)
    .orderBy('created_at')
    .execute();
  for (const d of decided) {
    const s = states.get(d.pr_number);
    if (s !== undefined && isTier(d.tier)) s.tier = d.tier;
  }

  const requests: StoredOpenRequest[] = [];
  for (const n of list) {
    const s = states.get(n);
    if (s?.open !== true || s.lastAt < since) continue;
    if (s.tier === 'auto') continue;
    const minutes =
      s.added !== null || s.deleted !== null
        ? estimateReviewMinutes({ files: [{ path: '(pull request)', added: s.added ?? 0, deleted: s.deleted ?? 0 }], tier: s.tier ?? 'standard' }).minutes
        : defaultMinutes;
    const author = s.author?.toLowerCase() ?? null;
    const holders = new Map<string, StoredOpenRequest['source']>();
    for (const login of s.requested) holders.set(login.toLowerCase(), 'requested');
    for (const login of s.byFlowgate) if (!holders.has(login.toLowerCase())) holders.set(login.toLowerCase(), 'flowgate');
    for (const [key, r] of s.reviews) {
      if (r.state === 'approved') holders.delete(key);
      else holders.set(key, 'reviewing');
    }
    for (const [key, source] of [...holders.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (key === author) continue;
      const actor = s.reviews.get(key)?.actor ?? [...s.requested, ...s.byFlowgate].find((l) => l.toLowerCase() === key) ?? key;
      requests.push({ reviewer: reviewerSpec(actor), estimatedMinutes: minutes, prNumber: n, source });
    }
  }
  return requests;
}
