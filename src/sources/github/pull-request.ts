import type { Kysely } from 'kysely';
import { FlowgateError } from '../../core/errors.ts';
import { log } from '../../core/log.ts';
import type { GateVerdict, PullRequestFacts } from '../../service/decider.ts';
import { effectResult, recordEffect } from '../../service/effects.ts';
import type { Database } from '../../store/schema.ts';
import type { GitHubClient } from './client.ts';

/** The name of flowgate's check run. */
export const checkRunName = 'flowgate';
/** The hidden marker that identifies flowgate's one comment on a pull request. */
export const commentMarker = '<!-- flowgate -->';

export interface PullRef {
  owner: string;
  repo: string;
  number: number;
}

/** `owner/name` of a PullRef. */
export function repoKey(ref: { owner: string; repo: string }): string {
  return `${ref.owner}/${ref.repo}`;
}

/** Policy text by `owner/name@sha`: what a commit holds never changes, so it is read once per base commit. */
const policyCache = new Map<string, string | null>();

function statusOf(error: unknown): number | undefined {
  return (error as { status?: number } | null)?.status;
}

/** Reads a file at commit `sha` through the contents API, null when it is absent there; cached by commit. */
export async function fetchFileAt(client: GitHubClient, owner: string, repo: string, path: string, sha: string): Promise<string | null> {
  const key = `${owner}/${repo}@${sha}:${path}`;
  if (policyCache.has(key)) return policyCache.get(key) ?? null;
  let text: string | null;
  try {
    const { data } = await client.rest.repos.getContent({ owner, repo, path, ref: sha });
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) text = null;
    else text = Buffer.from(data.content, (data.encoding as BufferEncoding | undefined) ?? 'base64').toString('utf8');
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    text = null;
  }
  if (policyCache.size > 10_000) policyCache.clear();
  policyCache.set(key, text);
  return text;
}

/** CODEOWNERS at `sha`, from the first of GitHub's locations that has one. */
async function fetchCodeOwners(client: GitHubClient, owner: string, repo: string, sha: string): Promise<{ source: string; text: string } | null> {
  for (const path of ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS']) {
    const text = await fetchFileAt(client, owner, repo, path, sha);
    if (text !== null) return { source: `${path} at ${sha}`, text };
  }
  return null;
}

/** The pull request as GitHub has it now, with its files, commits, reviews, the head's checks and the base's policy. */
export async function fetchPullRequestFacts(client: GitHubClient, ref: PullRef): Promise<{ facts: PullRequestFacts; state: string; merged: boolean; updatedAt: string }> {
  const { owner, repo, number } = ref;
  const { data: pr } = await client.rest.pulls.get({ owner, repo, pull_number: number });
  const [files, commits, reviews, checks, policyText, codeOwners] = await Promise.all([
    client.paginate(client.rest.pulls.listFiles, { owner, repo, pull_number: number, per_page: 100 }),
    client.paginate(client.rest.pulls.listCommits, { owner, repo, pull_number: number, per_page: 100 }),
    client.paginate(client.rest.pulls.listReviews, { owner, repo, pull_number: number, per_page: 100 }),
    client.paginate(client.rest.checks.listForRef, { owner, repo, ref: pr.head.sha, per_page: 100 }),
    fetchFileAt(client, owner, repo, '.flowgate.yml', pr.base.sha),
    fetchCodeOwners(client, owner, repo, pr.base.sha),
  ]);
  const facts: PullRequestFacts = {
    repo: repoKey(ref),
    number,
    title: pr.title,
    body: pr.body ?? '',
    author: { login: pr.user.login, type: pr.user.type },
    draft: pr.draft ?? false,
    headRef: pr.head.ref,
    headSha: pr.head.sha,
    baseRef: pr.base.ref,
    baseSha: pr.base.sha,
    files: files.map((f) => ({
      path: f.filename,
      previousPath: f.previous_filename ?? null,
      status: f.status,
      additions: f.additions,
      deletions: f.deletions,
    })),
    commits: commits.map((c) => ({
      sha: c.sha,
      message: c.commit.message,
      authorName: c.commit.author?.name ?? '',
      authorEmail: c.commit.author?.email ?? '',
      authorLogin: c.author?.login ?? null,
    })),
    reviews: reviews.map((r) => ({ login: r.user?.login ?? '', state: r.state, commitId: r.commit_id ?? null, submittedAt: r.submitted_at ?? null })),
    checks: checks.filter((c) => c.name !== checkRunName).map((c) => ({ name: c.name, status: c.status, conclusion: c.conclusion })),
    policyText,
    codeOwners,
  };
  return { facts, state: pr.state, merged: pr.merged, updatedAt: pr.updated_at };
}

/** What publishing a verdict did, for logs, tests and the audit log. */
export interface PublishResult {
  checkRunId: number;
  commentId: number;
  commentCreated: boolean;
  reviewersRequested: string[];
  merged: boolean;
  mergeSkipped: string | null;
}

/**
 * Publishes a verdict on the pull request: the check run, the one comment, review requests and,
 * for the auto lane when allowed, the merge of exactly the decided head. Each step looks up what a
 * crashed earlier run may already have done and records what it did with an idempotency key, in the
 * transaction that stores its result, so a retried job never comments or merges twice.
 */
export async function publishVerdict(db: Kysely<Database>, client: GitHubClient, ref: PullRef, facts: PullRequestFacts, verdict: GateVerdict): Promise<PublishResult> {
  const checkRunId = await upsertCheckRun(db, client, ref, facts, verdict);
  const { commentId, created } = await upsertComment(db, client, ref, verdict);
  const reviewersRequested = await requestReviewers(db, client, ref, facts, verdict);
  const merge = await mergeIfAllowed(db, client, ref, facts, verdict);
  return { checkRunId, commentId, commentCreated: created, reviewersRequested, ...merge };
}

async function upsertCheckRun(db: Kysely<Database>, client: GitHubClient, ref: PullRef, facts: PullRequestFacts, verdict: GateVerdict): Promise<number> {
  const { owner, repo } = ref;
  const key = `check:${repoKey(ref)}@${facts.headSha}`;
  const output = {
    title: verdict.title,
    summary: verdict.summary,
    // GitHub takes at most 50 annotations per request.
    annotations: verdict.annotations.slice(0, 50).map((a) => ({
      path: a.path,
      start_line: a.startLine,
      end_line: a.endLine,
      annotation_level: a.level,
      message: a.message,
    })),
  };
  const completed = { status: 'completed' as const, conclusion: verdict.conclusion, completed_at: new Date().toISOString(), output };
  let id = (await effectResult(db, key)) as number | undefined;
  if (id === undefined) {
    // A run that crashed after GitHub created the check run but before recording it left one behind: reuse it.
    const { data } = await client.rest.checks.listForRef({ owner, repo, ref: facts.headSha, check_name: checkRunName, filter: 'latest', per_page: 1 });
    id = data.check_runs[0]?.id;
  }
  if (id !== undefined) {
    await client.rest.checks.update({ owner, repo, check_run_id: id, ...completed });
  } else {
    const { data } = await client.rest.checks.create({ owner, repo, name: checkRunName, head_sha: facts.headSha, external_id: `${repoKey(ref)}#${ref.number}`, ...completed });
    id = data.id;
  }
  const checkRunId = id;
  await db.transaction().execute(async (tx) => {
    await recordEffect(tx, key, 'check-run', checkRunId);
    await tx.updateTable('pr_states').set({ check_run_id: checkRunId }).where('repo', '=', repoKey(ref)).where('number', '=', ref.number).execute();
  });
  return checkRunId;
}

async function upsertComment(db: Kysely<Database>, client: GitHubClient, ref: PullRef, verdict: GateVerdict): Promise<{ commentId: number; created: boolean }> {
  const { owner, repo, number } = ref;
  const body = `${commentMarker}\n${verdict.summary}`;
  const stored = await db.selectFrom('pr_comments').select('comment_id').where('repo', '=', repoKey(ref)).where('pr_number', '=', number).executeTakeFirst();
  let id: number | undefined = stored?.comment_id;
  if (id !== undefined) {
    try {
      await client.rest.issues.updateComment({ owner, repo, comment_id: id, body });
      return { commentId: id, created: false };
    } catch (error) {
      // Someone deleted our comment: find or post another below.
      if (statusOf(error) !== 404) throw error;
    }
  }
  const comments = await client.paginate(client.rest.issues.listComments, { owner, repo, issue_number: number, per_page: 100 });
  id = comments.find((c) => c.body?.includes(commentMarker) === true)?.id;
  let created = false;
  if (id !== undefined) {
    await client.rest.issues.updateComment({ owner, repo, comment_id: id, body });
  } else {
    const { data } = await client.rest.issues.createComment({ owner, repo, issue_number: number, body });
    id = data.id;
    created = true;
  }
  const commentId = id;
  const now = Math.floor(Date.now() / 1000);
  await db.transaction().execute(async (tx) => {
    await recordEffect(tx, `comment:${repoKey(ref)}#${number}`, 'comment', commentId);
    await tx
      .insertInto('pr_comments')
      .values({ repo: repoKey(ref), pr_number: number, comment_id: commentId, updated_at: now })
      .onConflict((oc) => oc.columns(['repo', 'pr_number']).doUpdateSet({ comment_id: commentId, updated_at: now }))
      .execute();
  });
  return { commentId, created };
}

async function requestReviewers(db: Kysely<Database>, client: GitHubClient, ref: PullRef, facts: PullRequestFacts, verdict: GateVerdict): Promise<string[]> {
  const reviewers = verdict.reviewers.filter((r) => r !== facts.author.login);
  if (reviewers.length === 0 || verdict.tier === 'auto') return [];
  const key = `reviewers:${repoKey(ref)}#${ref.number}@${facts.headSha}`;
  if ((await effectResult(db, key)) !== undefined) return [];
  // Asking GitHub twice for the same reviewers changes nothing, so a crash before recording is harmless.
  await client.rest.pulls.requestReviewers({ owner: ref.owner, repo: ref.repo, pull_number: ref.number, reviewers });
  await recordEffect(db, key, 'reviewers', reviewers);
  return reviewers;
}

async function mergeIfAllowed(
  db: Kysely<Database>,
  client: GitHubClient,
  ref: PullRef,
  facts: PullRequestFacts,
  verdict: GateVerdict,
): Promise<{ merged: boolean; mergeSkipped: string | null }> {
  if (verdict.tier !== 'auto') return { merged: false, mergeSkipped: `tier ${verdict.tier}` };
  if (!verdict.autoMergeAllowed) return { merged: false, mergeSkipped: 'the policy does not allow auto-merge for this change' };
  if (!verdict.requiredChecksPassed) return { merged: false, mergeSkipped: 'required checks have not passed' };
  if (facts.draft) return { merged: false, mergeSkipped: 'draft' };
  const key = `merge:${repoKey(ref)}#${ref.number}`;
  if ((await effectResult(db, key)) !== undefined) return { merged: true, mergeSkipped: 'already merged by flowgate' };
  const { owner, repo, number } = ref;
  // A run that crashed after GitHub merged but before recording it must not try again.
  const { data: current } = await client.rest.pulls.get({ owner, repo, pull_number: number });
  if (current.merged) {
    await recordEffect(db, key, 'merge', { sha: current.merge_commit_sha, head: current.head.sha });
    return { merged: true, mergeSkipped: 'already merged' };
  }
  if (current.head.sha !== facts.headSha) return { merged: false, mergeSkipped: 'the head moved since the decision' };
  try {
    // `sha` makes GitHub refuse (409) if the head changed after this decision: flowgate never merges what it did not judge.
    const { data } = await client.rest.pulls.merge({ owner, repo, pull_number: number, sha: facts.headSha, merge_method: 'squash' });
    await recordEffect(db, key, 'merge', { sha: data.sha, head: facts.headSha });
    return { merged: data.merged, mergeSkipped: null };
  } catch (error) {
    const status = statusOf(error);
    if (status === 405 || status === 409) {
      log.info({ repo: repoKey(ref), number, status }, 'GitHub refused the auto-merge');
      return { merged: false, mergeSkipped: status === 409 ? 'the head moved since the decision' : 'GitHub says the pull request is not mergeable' };
    }
    throw new FlowgateError('UPSTREAM_FAILED', `Merging ${repoKey(ref)}#${number} failed: ${(error as Error).message}`, { cause: error });
  }
}
