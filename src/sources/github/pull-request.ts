import { FlowgateError } from '../../core/errors.ts';
import { log } from '../../core/log.ts';
import type { GateVerdict, PullRequestFacts } from '../../service/decider.ts';
import type { GitHubClient } from './client.ts';
import { gitHubGraphql, gitHubRequest } from './http.ts';

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

/** The REST path of a repository, `/repos/owner/name`. */
function repoPath(ref: { owner: string; repo: string }): string {
  return `/repos/${encodeURIComponent(ref.owner)}/${encodeURIComponent(ref.repo)}`;
}

/** Files by `owner/name@sha:path`: what a commit holds never changes, so each is read once per base commit. */
const fileCache = new Map<string, string | null>();
const cacheLimit = 20_000;

function remember(key: string, text: string | null): void {
  // A plain bound rather than an LRU: base commits change slowly, and a miss costs one query field.
  if (fileCache.size >= cacheLimit) fileCache.clear();
  fileCache.set(key, text);
}

function statusOf(error: unknown): number | undefined {
  return (error as { status?: number } | null)?.status;
}

/** The base-commit files the gate reads: the policy, then GitHub's CODEOWNERS locations in GitHub's order. */
export const policyPath = '.flowgate.yml';
export const codeOwnersPaths = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'];
const baseFiles = [policyPath, ...codeOwnersPaths];

/** Reads a file at commit `sha` through the contents API, null when it is absent there; cached by commit. */
export async function fetchFileAt(client: GitHubClient, owner: string, repo: string, path: string, sha: string): Promise<string | null> {
  const key = `${owner}/${repo}@${sha}:${path}`;
  if (fileCache.has(key)) return fileCache.get(key) ?? null;
  let text: string | null;
  try {
    const { data } = await client.rest.repos.getContent({ owner, repo, path, ref: sha });
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) text = null;
    else text = Buffer.from(data.content, (data.encoding as BufferEncoding | undefined) ?? 'base64').toString('utf8');
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    text = null;
  }
  remember(key, text);
  return text;
}

/** What the caller knows before asking GitHub (from the webhook payload or the stored state). */
export interface PullHint {
  /** The base commit the pull request is believed to have: its files are read in the same query. */
  baseSha: string | null;
}

/** A pull request fetched for a decision: the gate's facts, its state, and flowgate's own check run on the head. */
export interface FetchedPullRequest {
  facts: PullRequestFacts;
  state: string;
  merged: boolean;
  updatedAt: string;
  /** flowgate's check run on the head commit, when GitHub already has one (a retried job, a re-decision). */
  ownCheckRunId: number | null;
  /** GitHub round trips this fetch took (1 unless paging, renames or a moved base needed more). */
  requests: number;
}

const pageInfo = 'pageInfo { hasNextPage endCursor }';
const fileFields = 'nodes { path additions deletions changeType }';
const commitFields = 'nodes { commit { oid message author { name email user { __typename login } } } }';
const reviewFields = 'nodes { author { __typename login } state commit { oid } submittedAt }';
const connectionFields: Record<'files' | 'commits' | 'reviews', string> = { files: fileFields, commits: commitFields, reviews: reviewFields };

/**
 * The one query a decision needs: the pull request, its files, commits and reviews, the head
 * commit's check runs and the base commit's policy and CODEOWNERS (only those not cached).
 */
function factsQuery(fileVariables: string[]): string {
  const declared = fileVariables.map((v) => `, $${v}: String!`).join('');
  const objects = fileVariables.map((v) => `${v}: object(expression: $${v}) { ... on Blob { text } }`).join('\n    ');
  return `query PullRequestFacts($owner: String!, $name: String!, $number: Int!${declared}) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      title body isDraft state merged updatedAt
      author { __typename login }
      headRefName headRefOid baseRefName baseRefOid
      files(first: 100) { ${pageInfo} ${fileFields} }
      commits(first: 100) { ${pageInfo} ${commitFields} }
      reviews(first: 100) { ${pageInfo} ${reviewFields} }
      head: commits(last: 1) { nodes { commit { oid checkSuites(first: 50) { nodes { checkRuns(first: 100, filterBy: { checkType: LATEST }) { nodes { databaseId name status conclusion } } } } } } }
    }
    ${objects}
  }
}`;
}

function filesQuery(fileVariables: string[]): string {
  const declared = fileVariables.map((v) => `$${v}: String!`).join(', ');
  const objects = fileVariables.map((v) => `${v}: object(expression: $${v}) { ... on Blob { text } }`).join(' ');
  return `query BaseFiles($owner: String!, $name: String!, ${declared}) { repository(owner: $owner, name: $name) { ${objects} } }`;
}

function pageQuery(connection: 'files' | 'commits' | 'reviews'): string {
  return `query PullRequestPage($owner: String!, $name: String!, $number: Int!, $after: String!) {
  repository(owner: $owner, name: $name) { pullRequest(number: $number) { ${connection}(first: 100, after: $after) { ${pageInfo} ${connectionFields[connection]} } } }
}`;
}

interface Page<T> {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: T[];
}
interface GqlActor {
  __typename: string;
  login: string;
}
interface GqlFile {
  path: string;
  additions: number;
  deletions: number;
  changeType: string;
}
interface GqlCommit {
  commit: { oid: string; message: string; author: { name: string | null; email: string | null; user: GqlActor | null } | null };
}
interface GqlReview {
  author: GqlActor | null;
  state: string;
  commit: { oid: string } | null;
  submittedAt: string | null;
}
interface GqlPullRequest {
  title: string;
  body: string;
  isDraft: boolean;
  state: string;
  merged: boolean;
  updatedAt: string;
  author: GqlActor | null;
  headRefName: string;
  headRefOid: string;
  baseRefName: string;
  baseRefOid: string;
  files: Page<GqlFile>;
  commits: Page<GqlCommit>;
  reviews: Page<GqlReview>;
  head: { nodes: { commit: { oid: string; checkSuites: { nodes: { checkRuns: { nodes: { databaseId: number; name: string; status: string; conclusion: string | null }[] } }[] } } }[] };
}
type GqlRepository = { pullRequest?: GqlPullRequest | null } & Record<string, { text?: string | null } | null | GqlPullRequest | undefined>;

/** REST spells a bot's login `name[bot]`, GraphQL `name`: flowgate keeps REST's (provenance rules match on it). */
function loginOf(actor: GqlActor | null): string | null {
  if (actor === null) return null;
  return actor.__typename === 'Bot' && !actor.login.endsWith('[bot]') ? `${actor.login}[bot]` : actor.login;
}

const fileStatuses: Record<string, string> = { ADDED: 'added', DELETED: 'removed', MODIFIED: 'modified', RENAMED: 'renamed', COPIED: 'copied', CHANGED: 'changed' };

/**
 * The pull request as GitHub has it now, in one GraphQL query: its fields, files, commits, reviews,
 * the head's check runs and the base commit's .flowgate.yml and CODEOWNERS. More round trips only
 * when a list has more than 100 entries, when a file was renamed (GraphQL does not give the old
 * path: the REST file list does), or when the base moved from `hint.baseSha`.
 */
export async function fetchPullRequestFacts(client: GitHubClient, ref: PullRef, hint: PullHint = { baseSha: null }): Promise<FetchedPullRequest> {
  const { owner, repo, number } = ref;
  const cacheKey = (sha: string, path: string): string => `${owner}/${repo}@${sha}:${path}`;
  const variablesFor = (sha: string | null): { names: string[]; values: Record<string, string>; paths: Map<string, string> } => {
    const names: string[] = [];
    const values: Record<string, string> = {};
    const paths = new Map<string, string>();
    if (sha === null) return { names, values, paths };
    baseFiles.forEach((path, i) => {
      if (fileCache.has(cacheKey(sha, path))) return;
      const name = `file${i}`;
      names.push(name);
      values[name] = `${sha}:${path}`;
      paths.set(name, path);
    });
    return { names, values, paths };
  };
  const storeFiles = (sha: string, repository: GqlRepository, paths: Map<string, string>): void => {
    for (const [name, path] of paths) {
      const blob = repository[name] as { text?: string | null } | null | undefined;
      remember(cacheKey(sha, path), blob?.text ?? null);
    }
  };

  let requests = 1;
  const first = variablesFor(hint.baseSha);
  const { repository } = await gitHubGraphql<{ repository: GqlRepository | null }>(client, factsQuery(first.names), { owner, name: repo, number, ...first.values });
  const pr = repository?.pullRequest ?? null;
  if (repository === null || pr === null) throw new FlowgateError('NOT_FOUND', `GitHub has no pull request ${repoKey(ref)}#${number} (or the App cannot see it).`);
  if (hint.baseSha !== null) storeFiles(hint.baseSha, repository, first.paths);
  if (hint.baseSha !== pr.baseRefOid) {
    // The base moved (or was unknown): read its files at the commit GitHub reports.
    const second = variablesFor(pr.baseRefOid);
    if (second.names.length > 0) {
      requests++;
      const { repository: files } = await gitHubGraphql<{ repository: GqlRepository }>(client, filesQuery(second.names), { owner, name: repo, ...second.values });
      storeFiles(pr.baseRefOid, files, second.paths);
    }
  }
  const rest = async <T>(connection: 'files' | 'commits' | 'reviews', page: Page<T>): Promise<T[]> => {
    const all = [...page.nodes];
    let after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    while (after !== null) {
      requests++;
      const { repository: more } = await gitHubGraphql<{ repository: { pullRequest: Record<string, Page<T>> } }>(client, pageQuery(connection), { owner, name: repo, number, after });
      const next = more.pullRequest[connection];
      if (next === undefined) break;
      all.push(...next.nodes);
      after = next.pageInfo.hasNextPage ? next.pageInfo.endCursor : null;
    }
    return all;
  };
  const [gqlFiles, gqlCommits, gqlReviews] = await Promise.all([rest('files', pr.files), rest('commits', pr.commits), rest('reviews', pr.reviews)]);
  let files: PullRequestFacts['files'] = gqlFiles.map((f) => ({ path: f.path, previousPath: null, status: fileStatuses[f.changeType] ?? 'modified', additions: f.additions, deletions: f.deletions }));
  if (files.some((f) => f.status === 'renamed' || f.status === 'copied')) {
    const listed = await client.paginate(client.rest.pulls.listFiles, { owner, repo, pull_number: number, per_page: 100 }, (response) => {
      requests++;
      return response.data;
    });
    files = listed.map((f) => ({ path: f.filename, previousPath: f.previous_filename ?? null, status: f.status, additions: f.additions, deletions: f.deletions }));
  }
  const head = pr.head.nodes[0]?.commit;
  // The last commit is the head in one snapshot; if not, its checks are another commit's: use none (fail safe).
  if (head !== undefined && head.oid !== pr.headRefOid) log.warn({ repo: repoKey(ref), number, head: pr.headRefOid, last: head.oid }, 'the last commit is not the head; ignoring its checks');
  const runs = head?.oid === pr.headRefOid ? head.checkSuites.nodes.flatMap((suite) => suite.checkRuns.nodes) : [];
  const own = runs.filter((r) => r.name === checkRunName).sort((a, b) => b.databaseId - a.databaseId)[0];
  const fileAt = (path: string): string | null => fileCache.get(cacheKey(pr.baseRefOid, path)) ?? null;
  const ownersPath = codeOwnersPaths.find((path) => fileAt(path) !== null);
  const author = loginOf(pr.author) ?? 'ghost';
  const facts: PullRequestFacts = {
    repo: repoKey(ref),
    number,
    title: pr.title,
    body: pr.body,
    author: { login: author, type: pr.author?.__typename === 'Bot' ? 'Bot' : 'User' },
    draft: pr.isDraft,
    headRef: pr.headRefName,
    headSha: pr.headRefOid,
    baseRef: pr.baseRefName,
    baseSha: pr.baseRefOid,
    files,
    commits: gqlCommits.map(({ commit: c }) => ({
      sha: c.oid,
      message: c.message,
      authorName: c.author?.name ?? '',
      authorEmail: c.author?.email ?? '',
      authorLogin: loginOf(c.author?.user ?? null),
    })),
    reviews: gqlReviews.map((r) => ({ login: loginOf(r.author) ?? '', state: r.state, commitId: r.commit?.oid ?? null, submittedAt: r.submittedAt })),
    checks: runs.filter((r) => r.name !== checkRunName).map((r) => ({ name: r.name, status: r.status.toLowerCase(), conclusion: r.conclusion === null ? null : r.conclusion.toLowerCase() })),
    policyText: fileAt(policyPath),
    codeOwners: ownersPath === undefined ? null : { source: `${ownersPath} at ${pr.baseRefOid}`, text: fileAt(ownersPath) ?? '' },
  };
  const state = pr.state === 'OPEN' ? 'open' : 'closed';
  return { facts, state, merged: pr.merged, updatedAt: pr.updatedAt, ownCheckRunId: own?.databaseId ?? null, requests };
}

/** What publishing a verdict did, for logs, tests, the store and the audit log. */
export interface PublishResult {
  checkRunId: number;
  commentId: number;
  commentCreated: boolean;
  reviewersRequested: string[];
  merged: boolean;
  mergeSkipped: string | null;
  /** Set when this run merged, or found the merge a crashed run did: record it so no run merges again. */
  mergeRecord: { sha: string | null; head: string } | null;
}

/** What flowgate already knows it published on this pull request (from its store and the facts query). */
export interface PublishKnown {
  /**
   * An earlier run stopped between its first GitHub write and recording the results: look up what
   * GitHub already has (check run, comment, merge) before creating anything. False on the common
   * path, which then makes no lookup calls at all.
   */
  recovering: boolean;
  checkRunId: number | null;
  commentId: number | null;
  /** flowgate recorded a merge of this pull request. */
  merged: boolean;
  /** Reviewers were already requested for this head. */
  reviewersRequested: boolean;
}

/**
 * Publishes a verdict on the pull request: the check run, the one comment, review requests and,
 * for the auto lane when allowed, the merge of exactly the decided head. It writes nothing to the
 * store: the caller records the result in one transaction, and marks the pull request as
 * publishing before calling, so that a run that died half-way is retried with `recovering` (no
 * second comment, no second merge).
 */
export async function publishVerdict(client: GitHubClient, ref: PullRef, facts: PullRequestFacts, verdict: GateVerdict, known: PublishKnown): Promise<PublishResult> {
  const checkRunId = await upsertCheckRun(client, ref, facts, verdict, known);
  const { commentId, created } = await upsertComment(client, ref, verdict, known);
  const reviewersRequested = known.reviewersRequested ? [] : await requestReviewers(client, ref, facts, verdict);
  const merge = await mergeIfAllowed(client, ref, facts, verdict, known);
  return { checkRunId, commentId, commentCreated: created, reviewersRequested, ...merge };
}

async function upsertCheckRun(client: GitHubClient, ref: PullRef, facts: PullRequestFacts, verdict: GateVerdict, known: PublishKnown): Promise<number> {
  const { owner, repo } = ref;
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
  let id = known.checkRunId ?? undefined;
  if (id === undefined && known.recovering) {
    // A run that crashed after GitHub created the check run may have left one the facts query did not see yet.
    const { data } = await client.rest.checks.listForRef({ owner, repo, ref: facts.headSha, check_name: checkRunName, filter: 'latest', per_page: 1 });
    id = data.check_runs[0]?.id;
  }
  if (id !== undefined) {
    try {
      await gitHubRequest(client, 'PATCH', `${repoPath(ref)}/check-runs/${id}`, completed);
      return id;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }
  const created = await gitHubRequest<{ id: number }>(client, 'POST', `${repoPath(ref)}/check-runs`, { name: checkRunName, head_sha: facts.headSha, external_id: `${repoKey(ref)}#${ref.number}`, ...completed });
  return created.id;
}

async function upsertComment(client: GitHubClient, ref: PullRef, verdict: GateVerdict, known: PublishKnown): Promise<{ commentId: number; created: boolean }> {
  const { owner, repo, number } = ref;
  const body = `${commentMarker}\n${verdict.summary}`;
  let id = known.commentId ?? undefined;
  if (id !== undefined) {
    try {
      await gitHubRequest(client, 'PATCH', `${repoPath(ref)}/issues/comments/${id}`, { body });
      return { commentId: id, created: false };
    } catch (error) {
      // Someone deleted our comment: find or post another below.
      if (statusOf(error) !== 404) throw error;
    }
  }
  if (known.recovering || known.commentId !== null) {
    const comments = await client.paginate(client.rest.issues.listComments, { owner, repo, issue_number: number, per_page: 100 });
    id = comments.find((c) => c.body?.includes(commentMarker) === true && c.id !== known.commentId)?.id;
    if (id !== undefined) {
      await client.rest.issues.updateComment({ owner, repo, comment_id: id, body });
      return { commentId: id, created: false };
    }
  }
  const created = await gitHubRequest<{ id: number }>(client, 'POST', `${repoPath(ref)}/issues/${number}/comments`, { body });
  return { commentId: created.id, created: true };
}

async function requestReviewers(client: GitHubClient, ref: PullRef, facts: PullRequestFacts, verdict: GateVerdict): Promise<string[]> {
  const reviewers = verdict.reviewers.filter((r) => r !== facts.author.login);
  if (reviewers.length === 0 || verdict.tier === 'auto') return [];
  // Asking GitHub twice for the same reviewers changes nothing, so a crash before recording is harmless.
  await gitHubRequest(client, 'POST', `${repoPath(ref)}/pulls/${ref.number}/requested_reviewers`, { reviewers });
  return reviewers;
}

async function mergeIfAllowed(
  client: GitHubClient,
  ref: PullRef,
  facts: PullRequestFacts,
  verdict: GateVerdict,
  known: PublishKnown,
): Promise<{ merged: boolean; mergeSkipped: string | null; mergeRecord: PublishResult['mergeRecord'] }> {
  const skip = (why: string): { merged: false; mergeSkipped: string; mergeRecord: null } => ({ merged: false, mergeSkipped: why, mergeRecord: null });
  if (verdict.tier !== 'auto') return skip(`tier ${verdict.tier}`);
  if (!verdict.autoMergeAllowed) return skip('the policy does not allow auto-merge for this change');
  if (!verdict.requiredChecksPassed) return skip('required checks have not passed');
  if (facts.draft) return skip('draft');
  if (known.merged) return { merged: true, mergeSkipped: 'already merged by flowgate', mergeRecord: null };
  const { owner, repo, number } = ref;
  if (known.recovering) {
    // A run that crashed after GitHub merged but before recording it must not try again.
    const { data: current } = await client.rest.pulls.get({ owner, repo, pull_number: number });
    if (current.merged) return { merged: true, mergeSkipped: 'already merged', mergeRecord: { sha: current.merge_commit_sha, head: current.head.sha } };
    if (current.head.sha !== facts.headSha) return skip('the head moved since the decision');
  }
  try {
    // `sha` makes GitHub refuse (409) if the head changed after this decision: flowgate never merges what it did not judge.
    const data = await gitHubRequest<{ merged: boolean; sha: string }>(client, 'PUT', `${repoPath(ref)}/pulls/${number}/merge`, { sha: facts.headSha, merge_method: 'squash' });
    return { merged: data.merged, mergeSkipped: null, mergeRecord: data.merged ? { sha: data.sha, head: facts.headSha } : null };
  } catch (error) {
    const status = statusOf(error);
    if (status === 405 || status === 409) {
      log.info({ repo: repoKey(ref), number, status }, 'GitHub refused the auto-merge');
      return skip(status === 409 ? 'the head moved since the decision' : 'GitHub says the pull request is not mergeable');
    }
    throw new FlowgateError('UPSTREAM_FAILED', `Merging ${repoKey(ref)}#${number} failed: ${(error as Error).message}`, { cause: error });
  }
}
