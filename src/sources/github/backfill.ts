import type { Kysely } from 'kysely';
import { FlowgateError } from '../../core/errors.ts';
import type { Database } from '../../store/schema.ts';
import { ingestEvents } from '../events/ingest.ts';
import { repositoryForEvents } from '../events/repository.ts';
import { FlowEvent } from '../events/schema.ts';
import type { GitHubClient } from './client.ts';

/** The resources a backfill walks, each with its own cursor. */
export type BackfillResource = 'pulls' | 'deployments';

export interface BackfillResult {
  counts: Record<string, number>;
  inserted: number;
  /** Resources whose first page had not changed since the last complete run (304). */
  unchanged: BackfillResource[];
}

/** `rel="next"` of a Link header. */
export function nextLink(link: string | undefined): string | null {
  if (link === undefined) return null;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="next"/.exec(part);
    if (match?.[1] !== undefined) return match[1];
  }
  return null;
}

interface Page<T> {
  items: T[];
  next: string | null;
  etag: string | null;
  notModified: boolean;
}

async function getPage(client: GitHubClient, url: string, etag: string | null): Promise<Page<unknown>> {
  try {
    const response = await client.request({ method: 'GET', url, headers: etag === null ? {} : { 'if-none-match': etag } });
    const data: unknown = response.data;
    const items: unknown[] = Array.isArray(data) ? data : [];
    return { items, next: nextLink(response.headers.link), etag: response.headers.etag ?? null, notModified: false };
  } catch (error) {
    if ((error as { status?: number }).status === 304) return { items: [], next: null, etag, notModified: true };
    throw error;
  }
}

/** Fields of the REST shapes the backfill reads (lenient: GitHub adds fields). */
interface RestPull {
  id: number;
  number: number;
  title: string;
  user: { login: string } | null;
  created_at: string;
  closed_at: string | null;
  merged_at: string | null;
  merge_commit_sha: string | null;
  draft?: boolean;
  head: { ref: string; sha: string };
  base: { ref: string };
}
interface RestReview {
  id: number;
  user: { login: string } | null;
  state: string;
  submitted_at?: string;
}
interface RestCheckRun {
  id: number;
  name: string;
  head_sha: string;
  conclusion: string | null;
  started_at: string | null;
  completed_at: string | null;
}
interface RestDeployment {
  id: number;
  sha: string;
  environment: string;
}
interface RestDeploymentStatus {
  state: string;
  created_at: string;
}

const checkConclusions = new Set(['success', 'failure', 'cancelled', 'skipped', 'neutral', 'timed_out']);
const reviewStates: Record<string, string> = { APPROVED: 'approved', CHANGES_REQUESTED: 'changes_requested', COMMENTED: 'commented' };

/** A pull request's events in the import schema: opened, then merged or closed. */
export function pullEvents(pr: RestPull): FlowEvent[] {
  const events: unknown[] = [
    {
      id: `github:pr:${pr.id}:opened`,
      type: 'pull_request',
      action: 'opened',
      at: pr.created_at,
      number: pr.number,
      ...(pr.user === null ? {} : { author: pr.user.login }),
      head_branch: pr.head.ref,
      base_branch: pr.base.ref,
      title: pr.title,
      draft: pr.draft ?? false,
    },
  ];
  if (pr.merged_at !== null) {
    events.push({
      id: `github:pr:${pr.id}:merged`,
      type: 'pull_request',
      action: 'merged',
      at: pr.merged_at,
      number: pr.number,
      ...(pr.merge_commit_sha === null ? {} : { merge_sha: pr.merge_commit_sha }),
    });
  } else if (pr.closed_at !== null) {
    events.push({ id: `github:pr:${pr.id}:closed`, type: 'pull_request', action: 'closed', at: pr.closed_at, number: pr.number });
  }
  return events.map((e) => FlowEvent.parse(e));
}

function reviewEvents(number: number, reviews: RestReview[]): FlowEvent[] {
  return reviews.flatMap((r) => {
    const state = reviewStates[r.state];
    if (state === undefined || r.submitted_at === undefined || r.user === null) return [];
    return [FlowEvent.parse({ id: `github:review:${r.id}`, type: 'review', at: r.submitted_at, number, reviewer: r.user.login, state })];
  });
}

function checkEvents(branch: string, runs: RestCheckRun[]): FlowEvent[] {
  return runs.flatMap((run) => {
    if (!run.completed_at || !run.conclusion || !checkConclusions.has(run.conclusion)) return [];
    return [
      FlowEvent.parse({
        id: `github:check:${run.id}`,
        type: 'check',
        at: run.completed_at,
        name: run.name,
        sha: run.head_sha,
        branch,
        conclusion: run.conclusion,
        ...(run.started_at ? { started_at: run.started_at } : {}),
      }),
    ];
  });
}

/**
 * Imports a repository's pull requests (with their reviews and head check runs) and deployments
 * (with their final status) through the REST API. Each page is stored with its cursor in one
 * transaction, so an interrupted run resumes at the page it stopped at; a complete resource is
 * re-checked with its first page's ETag and skipped when GitHub answers 304 Not Modified. Rate
 * limits are waited out by the client (see retry.ts).
 */
export async function backfillRepository(
  db: Kysely<Database>,
  client: GitHubClient,
  ref: { owner: string; repo: string },
  progress: (resource: string, count: number) => void = () => undefined,
): Promise<BackfillResult> {
  const repoKey = `${ref.owner}/${ref.repo}`;
  const repository = await repositoryForEvents(db, repoKey);
  const result: BackfillResult = { counts: { pulls: 0, reviews: 0, checks: 0, deployments: 0 }, inserted: 0, unchanged: [] };
  const base = `/repos/${ref.owner}/${ref.repo}`;
  const count = (key: string, n: number): void => {
    result.counts[key] = (result.counts[key] ?? 0) + n;
  };

  const walk = async (resource: BackfillResource, firstUrl: string, toEvents: (items: unknown[]) => Promise<FlowEvent[]>): Promise<void> => {
    const cursor = await db.selectFrom('backfill_cursors').selectAll().where('repo', '=', repoKey).where('resource', '=', resource).executeTakeFirst();
    let url = cursor !== undefined && cursor.done === 0 && cursor.next_url !== null ? cursor.next_url : firstUrl;
    let firstEtag: string | null = cursor?.etag ?? null;
    const conditional = cursor?.done === 1;
    for (let first = url === firstUrl; ; first = false) {
      const page = await getPage(client, url, first && conditional ? firstEtag : null);
      if (page.notModified) {
        result.unchanged.push(resource);
        return;
      }
      if (first) firstEtag = page.etag;
      const events = await toEvents(page.items);
      const next = page.next;
      await db.transaction().execute(async (tx) => {
        const stored = await ingestEvents(tx, repository.id, events, 'github-backfill');
        result.inserted += stored.inserted;
        const row = { next_url: next, etag: firstEtag, done: next === null ? 1 : 0, updated_at: Math.floor(Date.now() / 1000) };
        await tx
          .insertInto('backfill_cursors')
          .values({ repo: repoKey, resource, ...row })
          .onConflict((oc) => oc.columns(['repo', 'resource']).doUpdateSet(row))
          .execute();
      });
      count(resource, page.items.length);
      progress(resource, result.counts[resource] ?? 0);
      if (next === null) return;
      url = next;
    }
  };

  await walk('pulls', `${base}/pulls?state=all&sort=created&direction=asc&per_page=100`, async (items) => {
    const events: FlowEvent[] = [];
    for (const pr of items as RestPull[]) {
      events.push(...pullEvents(pr));
      const reviews: unknown[] = await client.paginate(`GET ${base}/pulls/{pull_number}/reviews`, { pull_number: pr.number, per_page: 100 });
      count('reviews', reviews.length);
      events.push(...reviewEvents(pr.number, reviews as RestReview[]));
      const runs = (await client.paginate(`GET ${base}/commits/{ref}/check-runs`, { ref: pr.head.sha, per_page: 100 })) as unknown as RestCheckRun[];
      count('checks', runs.length);
      events.push(...checkEvents(pr.head.ref, runs));
    }
    return events;
  });

  await walk('deployments', `${base}/deployments?per_page=100`, async (items) => {
    const events: FlowEvent[] = [];
    for (const d of items as RestDeployment[]) {
      const { data: statuses } = (await client.request(`GET ${base}/deployments/{deployment_id}/statuses`, { deployment_id: d.id, per_page: 100 })) as {
        data: RestDeploymentStatus[];
      };
      // Statuses come newest first; the deployment's result is its latest final state.
      const final = statuses.find((s) => ['success', 'failure', 'error'].includes(s.state));
      if (final === undefined) continue;
      events.push(
        FlowEvent.parse({
          id: `github:deployment:${d.id}`,
          type: 'deployment',
          at: final.created_at,
          environment: d.environment,
          result: final.state === 'success' ? 'success' : 'failure',
          sha: d.sha,
        }),
      );
    }
    return events;
  });

  return result;
}

/** Throws a clear error for a repository argument that is not owner/name. */
export function parseRepoArg(value: string): { owner: string; repo: string } {
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(value);
  if (match?.[1] === undefined || match[2] === undefined) throw new FlowgateError('USAGE', `--repo expects owner/name, got "${value}".`);
  return { owner: match[1], repo: match[2] };
}
