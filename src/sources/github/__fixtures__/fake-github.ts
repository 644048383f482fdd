/**
 * A fake GitHub REST API at the HTTP boundary: a node:http server implementing the endpoints
 * flowgate calls, with request bodies checked against the shapes of @octokit/openapi-types and
 * responses built from real webhook payload shapes (@octokit/webhooks-examples). Tests inject
 * failures (5xx, rate limits) and hold requests open to kill a worker mid-call.
 */
import { createHash, generateKeyPairSync, verify as verifySignature, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { components, operations } from '@octokit/openapi-types';
import type { PullRequest, WebhookEventMap } from '@octokit/webhooks-types';
import { connection, executeGql, GqlError, parseGql, type GqlFieldDef, type GqlSchema } from './graphql-lite.ts';

type CheckRunCreate = operations['checks/create']['requestBody']['content']['application/json'];
type CheckRunUpdate = operations['checks/update']['requestBody']['content']['application/json'];
type CommentCreate = operations['issues/create-comment']['requestBody']['content']['application/json'];
type MergeBody = NonNullable<NonNullable<operations['pulls/merge']['requestBody']>['content']['application/json']>;
type ReviewersBody = NonNullable<operations['pulls/request-reviewers']['requestBody']>['content']['application/json'];
type PullFile = components['schemas']['diff-entry'];
type PullCommit = components['schemas']['commit'];
type Review = components['schemas']['pull-request-review'];
type CheckRun = components['schemas']['check-run'];
type IssueComment = components['schemas']['issue-comment'];

/** The example webhook payloads, by event name (real shapes from GitHub). */
export function webhookExamples<E extends keyof WebhookEventMap>(event: E): WebhookEventMap[E][] {
  const require = createRequire(import.meta.url);
  const all = require('@octokit/webhooks-examples') as { name: string; examples: unknown[] }[];
  const examples: unknown = all.find((d) => d.name === event)?.examples ?? [];
  return examples as WebhookEventMap[E][];
}

/** An App key pair: the private key for flowgate, the public one for the fake to verify JWTs. */
export function appKeys(): { privateKey: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), publicKey };
}

export interface FakePull {
  pr: PullRequest & { merged: boolean; merge_commit_sha: string | null };
  files: PullFile[];
  commits: PullCommit[];
  reviews: Review[];
}

export interface FakeRepo {
  owner: string;
  name: string;
  installationId: number;
  pulls: Map<number, FakePull>;
  /** .flowgate.yml by commit sha. */
  policies: Map<string, string>;
  /** Other files by `sha:path` (CODEOWNERS and the like). */
  blobs: Map<string, string>;
  checkRuns: CheckRun[];
  comments: (IssueComment & { issue_number: number })[];
  deployments: { id: number; sha: string; environment: string; statuses: { state: string; created_at: string }[] }[];
  merges: { number: number; sha: string }[];
  reviewRequests: { number: number; reviewers: string[] }[];
}

export interface Fault {
  method: string;
  path: RegExp;
  status: number;
  headers?: Record<string, string>;
  times: number;
}

export interface Hold {
  /** Resolves when a matching request has arrived (and, with `perform`, its effect is done). */
  arrived: Promise<void>;
  /** Lets the held response go. */
  release(): void;
}

export interface RecordedRequest {
  method: string;
  /** For POST /graphql: the query's top-level repository fields asked for (pullRequest, object aliases). */
  graphql?: string[];
  path: string;
  query: string;
  status: number;
  /** performance.now() when the response finished. */
  at: number;
}

export interface FakeGitHub {
  url: string;
  appId: string;
  privateKey: string;
  requests: RecordedRequest[];
  repo(fullName: string): FakeRepo;
  addRepo(owner: string, name: string, installationId?: number): FakeRepo;
  /** Adds a pull request built from a real webhook payload's `pull_request`, with files and checks. */
  addPull(fullName: string, pr: PullRequest, extra?: { files?: { filename: string; additions: number; deletions: number }[]; reviews?: { login: string; state: string }[] }): FakePull;
  addCheckRun(fullName: string, headSha: string, name: string, conclusion: string | null): void;
  /** Fails the next `times` matching requests with `status` (and headers, e.g. rate limits). */
  fail(fault: Omit<Fault, 'times'> & { times?: number }): void;
  /** Holds the next matching request open; with `perform`, its effect happens first (a response lost in a crash). */
  hold(method: string, path: RegExp, perform: boolean): Hold;
  count(method: string, path: RegExp): number;
  close(): Promise<void>;
}

/** A file's text at a commit: .flowgate.yml from `policies`, anything else from `blobs`. */
function blobAt(repo: FakeRepo, sha: string, path: string): string | undefined {
  return path === '.flowgate.yml' ? repo.policies.get(sha) : repo.blobs.get(`${sha}:${path}`);
}

/** A pull request's commits; a test that moves `pr.head.sha` (a push) gets that commit appended, as GitHub would list it. */
function commitsOf(pull: FakePull): PullCommit[] {
  const last = pull.commits.at(-1);
  if (last === undefined || last.sha === pull.pr.head.sha) return pull.commits;
  pull.commits.push({ ...structuredClone(last), sha: pull.pr.head.sha, parents: [{ sha: last.sha, url: '', html_url: '' }] });
  return pull.commits;
}

let ids = 1000;
const nextId = (): number => ++ids;

function fail(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ message, documentation_url: 'https://docs.github.com/rest' }));
}

class BadRequest extends Error {}

function need(condition: boolean, message: string): asserts condition {
  if (!condition) throw new BadRequest(message);
}

function assertCheckRunBody(body: CheckRunCreate | CheckRunUpdate, create: boolean): void {
  if (create) {
    need(typeof (body as CheckRunCreate).name === 'string', 'name is required');
    need(typeof (body as CheckRunCreate).head_sha === 'string' && /^[0-9a-f]{40}$/.test((body as CheckRunCreate).head_sha), 'head_sha must be a 40-hex sha');
  }
  need(body.status === undefined || ['queued', 'in_progress', 'completed'].includes(body.status), `bad status ${String(body.status)}`);
  const conclusions = ['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out'];
  need(body.conclusion === undefined || conclusions.includes(body.conclusion), `bad conclusion ${String(body.conclusion)}`);
  need(body.status !== 'completed' || body.conclusion !== undefined, 'a completed check run needs a conclusion');
  const output = body.output;
  if (output !== undefined) {
    need(typeof output.title === 'string' && typeof output.summary === 'string', 'output needs title and summary');
    need(output.summary.length <= 65_535, 'summary too long');
    for (const a of output.annotations ?? []) {
      need(typeof a.path === 'string' && Number.isInteger(a.start_line) && Number.isInteger(a.end_line), 'annotation needs path and lines');
      need(['notice', 'warning', 'failure'].includes(a.annotation_level), `bad annotation_level ${a.annotation_level}`);
      need(typeof a.message === 'string', 'annotation needs a message');
    }
    need((output.annotations ?? []).length <= 50, 'at most 50 annotations per request');
  }
}

/** Starts the fake on a free loopback port. */
export async function startFakeGitHub(): Promise<FakeGitHub> {
  const { privateKey, publicKey } = appKeys();
  const appId = '4242';
  const tokens = new Set<string>();
  const repos = new Map<string, FakeRepo>();
  const faults: Fault[] = [];
  const holds: { method: string; path: RegExp; perform: boolean; arrived: () => void; released: Promise<void> }[] = [];
  const requests: RecordedRequest[] = [];

  const verifyJwt = (auth: string | undefined): boolean => {
    const jwt = auth?.replace(/^bearer\s+/i, '') ?? '';
    const [header, payload, signature] = jwt.split('.');
    if (header === undefined || payload === undefined || signature === undefined) return false;
    const ok = verifySignature('RSA-SHA256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'));
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iss?: string | number; exp?: number };
    return ok && String(claims.iss) === appId && (claims.exp ?? 0) > Date.now() / 1000;
  };

  /** The part of GitHub's GraphQL schema flowgate reads, resolved from the same state as the REST routes. */
  const conn = (node: string): Record<string, GqlFieldDef> => ({
    nodes: { type: `[${node}]`, resolve: (c) => (c as { nodes: unknown[] }).nodes },
    pageInfo: { type: 'PageInfo', resolve: (c) => (c as { pageInfo: unknown }).pageInfo },
    totalCount: { type: 'Int', resolve: (c) => (c as { totalCount: number }).totalCount },
  });
  const page = { first: { required: false }, last: { required: false }, after: { required: false } };
  // Each resolver annotates its own parent type: a function of any parent fits `never`.
  const field = (type: string, resolve: (parent: never, args: Record<string, unknown>) => unknown, args?: GqlFieldDef['args']): GqlFieldDef => ({
    type,
    resolve,
    ...(args === undefined ? {} : { args }),
  });
  type RepoPull = { repo: FakeRepo; pull: FakePull };
  type RepoCommit = { __typename: 'Commit'; repo: FakeRepo; oid: string; message: string; author: { name: string; email: string; user: { login: string } | null } };
  const commitObject = (repo: FakeRepo, oid: string, c?: PullCommit): RepoCommit => ({
    __typename: 'Commit',
    repo,
    oid,
    message: c?.commit.message ?? '',
    author: { name: c?.commit.author?.name ?? '', email: c?.commit.author?.email ?? '', user: c?.author === null || c?.author === undefined ? null : { login: c.author.login } },
  });
  const changeTypes: Record<string, string> = { added: 'ADDED', removed: 'DELETED', modified: 'MODIFIED', renamed: 'RENAMED', copied: 'COPIED', changed: 'CHANGED', unchanged: 'MODIFIED' };
  const graphqlSchema: GqlSchema = {
    Query: {
      repository: field('Repository', (_p: null, a) => repos.get(`${String(a['owner'])}/${String(a['name'])}`) ?? null, { owner: { required: true }, name: { required: true } }),
    },
    Repository: {
      pullRequest: field('PullRequest', (repo: FakeRepo, a) => {
        const pull = repo.pulls.get(Number(a['number']));
        return pull === undefined ? null : { repo, pull };
      }, { number: { required: true } }),
      object: field('GitObject', (repo: FakeRepo, a) => {
        const expression = String(a['expression']);
        const colon = expression.indexOf(':');
        if (colon < 0) return /^[0-9a-f]{40}$/.test(expression) ? commitObject(repo, expression) : null;
        const text = blobAt(repo, expression.slice(0, colon), expression.slice(colon + 1));
        return text === undefined ? null : { __typename: 'Blob', text };
      }, { expression: { required: true } }),
    },
    GitObject: { oid: field('GitObjectID', (o: { oid?: string }) => o.oid ?? null) },
    Blob: { text: field('String', (b: { text: string }) => b.text) },
    PageInfo: {
      hasNextPage: field('Boolean', (p: { hasNextPage: boolean }) => p.hasNextPage),
      endCursor: field('String', (p: { endCursor: string | null }) => p.endCursor),
    },
    PullRequest: {
      number: field('Int', ({ pull }: RepoPull) => pull.pr.number),
      title: field('String', ({ pull }: RepoPull) => pull.pr.title),
      body: field('String', ({ pull }: RepoPull) => pull.pr.body),
      isDraft: field('Boolean', ({ pull }: RepoPull) => pull.pr.draft),
      state: field('Enum', ({ pull }: RepoPull) => (pull.pr.merged ? 'MERGED' : pull.pr.state.toUpperCase())),
      merged: field('Boolean', ({ pull }: RepoPull) => pull.pr.merged),
      updatedAt: field('DateTime', ({ pull }: RepoPull) => pull.pr.updated_at),
      author: field('Actor', ({ pull }: RepoPull) => ({ __typename: pull.pr.user.type === 'Bot' ? 'Bot' : 'User', login: pull.pr.user.login })),
      headRefName: field('String', ({ pull }: RepoPull) => pull.pr.head.ref),
      headRefOid: field('GitObjectID', ({ pull }: RepoPull) => pull.pr.head.sha),
      baseRefName: field('String', ({ pull }: RepoPull) => pull.pr.base.ref),
      baseRefOid: field('GitObjectID', ({ pull }: RepoPull) => pull.pr.base.sha),
      files: field('FileConnection', ({ pull }: RepoPull, a) => connection(pull.files.map((f) => ({ path: f.filename, additions: f.additions, deletions: f.deletions, changeType: changeTypes[f.status] ?? 'MODIFIED' })), a), page),
      commits: field('CommitConnection', ({ repo, pull }: RepoPull, a) => connection(commitsOf(pull).map((c) => ({ commit: commitObject(repo, c.sha, c) })), a), page),
      reviews: field(
        'ReviewConnection',
        ({ pull }: RepoPull, a) => connection(pull.reviews.map((r) => ({ author: r.user === null ? null : { __typename: 'User', login: r.user.login }, state: r.state, commit: r.commit_id === null ? null : { oid: r.commit_id }, submittedAt: r.submitted_at ?? null })), a),
        page,
      ),
    },
    Actor: { login: field('String', (x: { login: string }) => x.login) },
    FileConnection: conn('PullRequestChangedFile'),
    PullRequestChangedFile: {
      path: field('String', (f: { path: string }) => f.path),
      additions: field('Int', (f: { additions: number }) => f.additions),
      deletions: field('Int', (f: { deletions: number }) => f.deletions),
      changeType: field('Enum', (f: { changeType: string }) => f.changeType),
    },
    CommitConnection: conn('PullRequestCommit'),
    PullRequestCommit: { commit: field('Commit', (c: { commit: RepoCommit }) => c.commit) },
    Commit: {
      oid: field('GitObjectID', (c: RepoCommit) => c.oid),
      message: field('String', (c: RepoCommit) => c.message),
      author: field('GitActor', (c: RepoCommit) => c.author),
      // The fake has no check suites: one suite holds every check run of the commit.
      checkSuites: field('CheckSuiteConnection', (c: RepoCommit, a) => connection([{ runs: c.repo.checkRuns.filter((r) => r.head_sha === c.oid) }], a), page),
    },
    GitActor: {
      name: field('String', (x: { name: string }) => x.name),
      email: field('String', (x: { email: string }) => x.email),
      user: field('Actor', (x: { user: unknown }) => x.user),
    },
    ReviewConnection: conn('PullRequestReview'),
    PullRequestReview: {
      author: field('Actor', (r: { author: unknown }) => r.author),
      state: field('Enum', (r: { state: string }) => r.state),
      commit: field('Commit', (r: { commit: unknown }) => r.commit),
      submittedAt: field('DateTime', (r: { submittedAt: string | null }) => r.submittedAt),
    },
    CheckSuiteConnection: conn('CheckSuite'),
    CheckSuite: {
      checkRuns: field('CheckRunConnection', (suite: { runs: CheckRun[] }, a) => {
        const filter = a['filterBy'] as { checkName?: string; checkType?: string } | undefined;
        need(filter?.checkType === undefined || ['ALL', 'LATEST'].includes(filter.checkType), `bad checkType ${String(filter?.checkType)}`);
        return connection(suite.runs.filter((r) => filter?.checkName === undefined || r.name === filter.checkName), a);
      }, { ...page, filterBy: { required: false } }),
    },
    CheckRunConnection: conn('CheckRun'),
    CheckRun: {
      databaseId: field('Int', (r: CheckRun) => r.id),
      name: field('String', (r: CheckRun) => r.name),
      status: field('Enum', (r: CheckRun) => r.status.toUpperCase()),
      conclusion: field('Enum', (r: CheckRun) => r.conclusion?.toUpperCase() ?? null),
    },
  };

  const paginate = <T>(res: ServerResponse, url: URL, items: T[], wrap?: (page: T[]) => unknown): void => {
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (page * perPage < items.length) {
      const next = new URL(url);
      next.searchParams.set('page', String(page + 1));
      headers['link'] = `<${next.toString()}>; rel="next"`;
    }
    const body = JSON.stringify(wrap === undefined ? slice : wrap(slice));
    const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
    headers['etag'] = etag;
    res.writeHead(200, headers);
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, base: string, record: RecordedRequest): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', base);
    const path = url.pathname;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    const body = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;

    const faultIndex = faults.findIndex((f) => f.method === method && f.path.test(path));
    const fault = faults[faultIndex];
    if (fault !== undefined) {
      fault.times--;
      if (fault.times <= 0) faults.splice(faultIndex, 1);
      return fail(res, fault.status, 'injected failure', fault.headers);
    }

    let m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    if (m !== null && method === 'POST') {
      if (!verifyJwt(req.headers.authorization)) return fail(res, 401, 'A JSON web token could not be decoded');
      const token = `ghs_${nextId()}${Math.random().toString(36).slice(2)}`;
      tokens.add(token);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token, expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: {}, repository_selection: 'all' }));
      return;
    }
    if (path === '/graphql' && method === 'POST') {
      const auth = req.headers.authorization?.replace(/^(token|bearer)\s+/i, '');
      if (auth === undefined || !tokens.has(auth)) return fail(res, 401, 'Bad credentials');
      const { query, variables } = body as { query?: unknown; variables?: unknown };
      need(typeof query === 'string', 'a GraphQL request needs a query string');
      need(variables === undefined || (typeof variables === 'object' && variables !== null), 'variables must be an object');
      res.writeHead(200, { 'content-type': 'application/json' });
      try {
        const operation = parseGql(query);
        const repoField = operation.selections.find((s) => s.kind === 'field' && s.name === 'repository');
        record.graphql = repoField?.kind === 'field' ? (repoField.selections ?? []).map((s) => (s.kind === 'field' ? (s.alias ?? s.name) : `...${s.on}`)) : [];
        res.end(JSON.stringify({ data: executeGql(graphqlSchema, operation, (variables ?? {}) as Record<string, unknown>) }));
      } catch (error) {
        if (!(error instanceof GqlError)) throw error;
        res.end(JSON.stringify({ errors: [{ message: error.message }] }));
      }
      return;
    }
    m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (m === null) return fail(res, 404, 'Not Found');
    const repo = repos.get(`${m[1]}/${m[2]}`);
    if (repo === undefined) return fail(res, 404, 'Not Found');
    const rest = m[3] ?? '';
    if (rest === '/installation' && method === 'GET') {
      if (!verifyJwt(req.headers.authorization)) return fail(res, 401, 'A JSON web token could not be decoded');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: repo.installationId, app_id: Number(appId), target_type: 'Organization' }));
      return;
    }
    const auth = req.headers.authorization?.replace(/^(token|bearer)\s+/i, '');
    if (auth === undefined || !tokens.has(auth)) return fail(res, 401, 'Bad credentials');

    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const pullOf = (n: string | undefined): FakePull | undefined => repo.pulls.get(Number(n));

    if ((m = /^\/pulls\/(\d+)$/.exec(rest)) && method === 'GET') {
      const pull = pullOf(m[1]);
      return pull === undefined ? fail(res, 404, 'Not Found') : json(200, pull.pr);
    }
    if (rest === '/pulls' && method === 'GET') {
      const all = [...repo.pulls.values()].map((p) => p.pr).sort((a, b) => a.number - b.number);
      const ifNoneMatch = req.headers['if-none-match'];
      const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
      const firstBody = JSON.stringify(all.slice(0, perPage));
      if (ifNoneMatch !== undefined && (url.searchParams.get('page') ?? '1') === '1' && ifNoneMatch === `"${createHash('sha1').update(firstBody).digest('hex')}"`) {
        res.writeHead(304, { etag: ifNoneMatch });
        res.end();
        return;
      }
      return paginate(res, url, all);
    }
    if ((m = /^\/pulls\/(\d+)\/(files|commits|reviews)$/.exec(rest)) && method === 'GET') {
      const pull = pullOf(m[1]);
      if (pull === undefined) return fail(res, 404, 'Not Found');
      return paginate<unknown>(res, url, m[2] === 'files' ? pull.files : m[2] === 'commits' ? commitsOf(pull) : pull.reviews);
    }
    if ((m = /^\/commits\/([^/]+)\/check-runs$/.exec(rest)) && method === 'GET') {
      const sha = m[1];
      const name = url.searchParams.get('check_name');
      const runs = repo.checkRuns.filter((r) => r.head_sha === sha && (name === null || r.name === name));
      return paginate(res, url, runs, (page) => ({ total_count: runs.length, check_runs: page }));
    }
    if ((m = /^\/contents\/(.+)$/.exec(rest)) && method === 'GET') {
      const file = m[1] ?? '';
      const text = blobAt(repo, url.searchParams.get('ref') ?? '', file);
      if (text === undefined) return fail(res, 404, 'Not Found');
      return json(200, { type: 'file', encoding: 'base64', name: file.split('/').at(-1), path: file, content: Buffer.from(text).toString('base64') });
    }
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest)) && method === 'GET') {
      return paginate(res, url, repo.comments.filter((c) => c.issue_number === Number(m?.[1])));
    }
    if (rest === '/deployments' && method === 'GET') return paginate(res, url, repo.deployments.map(({ statuses: _s, ...d }) => d));
    if ((m = /^\/deployments\/(\d+)\/statuses$/.exec(rest)) && method === 'GET') {
      const d = repo.deployments.find((x) => x.id === Number(m?.[1]));
      return d === undefined ? fail(res, 404, 'Not Found') : paginate(res, url, [...d.statuses].reverse());
    }

    // Writes: shapes are checked, then the effect happens, then a hold may delay the response.
    let status = 200;
    let response: unknown;
    if (rest === '/check-runs' && method === 'POST') {
      assertCheckRunBody(body, true);
      const b = body as unknown as CheckRunCreate;
      const run = { id: nextId(), name: b.name, head_sha: b.head_sha, status: b.status ?? 'queued', conclusion: b.conclusion ?? null, output: b.output, external_id: b.external_id ?? null } as unknown as CheckRun;
      repo.checkRuns.push(run);
      status = 201;
      response = run;
    } else if ((m = /^\/check-runs\/(\d+)$/.exec(rest)) && method === 'PATCH') {
      assertCheckRunBody(body, false);
      const run = repo.checkRuns.find((r) => r.id === Number(m?.[1]));
      if (run === undefined) return fail(res, 404, 'Not Found');
      Object.assign(run, body);
      response = run;
    } else if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest)) && method === 'POST') {
      need(typeof (body as unknown as CommentCreate).body === 'string', 'body is required');
      const comment = { id: nextId(), body: (body as unknown as CommentCreate).body, issue_number: Number(m[1]), user: { login: 'flowgate[bot]' } } as unknown as IssueComment & { issue_number: number };
      repo.comments.push(comment);
      status = 201;
      response = comment;
    } else if ((m = /^\/issues\/comments\/(\d+)$/.exec(rest)) && method === 'PATCH') {
      need(typeof (body as unknown as CommentCreate).body === 'string', 'body is required');
      const comment = repo.comments.find((c) => c.id === Number(m?.[1]));
      if (comment === undefined) return fail(res, 404, 'Not Found');
      comment.body = (body as unknown as CommentCreate).body;
      response = comment;
    } else if ((m = /^\/pulls\/(\d+)\/requested_reviewers$/.exec(rest)) && method === 'POST') {
      const b = body as unknown as ReviewersBody;
      need(Array.isArray(b.reviewers), 'reviewers must be an array');
      repo.reviewRequests.push({ number: Number(m[1]), reviewers: b.reviewers ?? [] });
      status = 201;
      response = pullOf(m[1])?.pr;
    } else if ((m = /^\/pulls\/(\d+)\/merge$/.exec(rest)) && method === 'PUT') {
      const pull = pullOf(m[1]);
      if (pull === undefined) return fail(res, 404, 'Not Found');
      const b = body as MergeBody;
      need(typeof b.sha === 'string', 'flowgate must pass sha');
      if (pull.pr.merged) return fail(res, 405, 'Pull Request is not mergeable');
      if (b.sha !== pull.pr.head.sha) return fail(res, 409, 'Head branch was modified. Review and try the merge again.');
      const sha = createHash('sha1').update(`merge${pull.pr.head.sha}`).digest('hex');
      pull.pr.merged = true;
      pull.pr.state = 'closed';
      pull.pr.merge_commit_sha = sha;
      repo.merges.push({ number: pull.pr.number, sha: b.sha });
      response = { sha, merged: true, message: 'Pull Request successfully merged' };
    } else {
      return fail(res, 404, `Not Found: ${method} ${path}`);
    }
    const holdIndex = holds.findIndex((h) => h.method === method && h.path.test(path));
    const hold = holds[holdIndex];
    if (hold !== undefined) {
      holds.splice(holdIndex, 1);
      hold.arrived();
      await hold.released;
    }
    if (!res.destroyed) json(status, response);
  };

  const server = createServer((req, res) => {
    const [path = '', query = ''] = (req.url ?? '').split('?');
    const record: RecordedRequest = { method: req.method ?? 'GET', path, query, status: 0, at: 0 };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
      record.at = performance.now();
    });
    handle(req, res, `http://${req.headers.host ?? 'localhost'}`, record).catch((error: unknown) => {
      if (error instanceof BadRequest) return fail(res, 422, `Invalid request: ${error.message}`);
      fail(res, 500, (error as Error).message);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;

  const fake: FakeGitHub = {
    url: `http://127.0.0.1:${address.port}`,
    appId,
    privateKey,
    requests,
    repo: (fullName) => {
      const repo = repos.get(fullName);
      if (repo === undefined) throw new Error(`fake has no repository ${fullName}`);
      return repo;
    },
    addRepo: (owner, name, installationId = 1) => {
      const repo: FakeRepo = { owner, name, installationId, pulls: new Map(), policies: new Map(), blobs: new Map(), checkRuns: [], comments: [], deployments: [], merges: [], reviewRequests: [] };
      repos.set(`${owner}/${name}`, repo);
      return repo;
    },
    addPull: (fullName, pr, extra = {}) => {
      const repo = fake.repo(fullName);
      const files = (extra.files ?? [{ filename: 'README.md', additions: 2, deletions: 1 }]).map(
        (f) => ({ sha: pr.head.sha, filename: f.filename, status: 'modified', additions: f.additions, deletions: f.deletions, changes: f.additions + f.deletions, blob_url: '', raw_url: '', contents_url: '' }) as unknown as PullFile,
      );
      const commits = [
        {
          sha: pr.head.sha,
          commit: { message: pr.title, author: { name: pr.user.login, email: `${pr.user.login}@example.com`, date: pr.created_at } },
          author: { login: pr.user.login },
          parents: [{ sha: pr.base.sha }],
        } as unknown as PullCommit,
      ];
      const reviews = (extra.reviews ?? []).map((r) => ({ id: nextId(), user: { login: r.login }, state: r.state, commit_id: pr.head.sha, submitted_at: pr.updated_at }) as unknown as Review);
      const pull: FakePull = { pr: { ...structuredClone(pr), id: nextId(), merged: false, merge_commit_sha: null, state: 'open' }, files, commits, reviews };
      repo.pulls.set(pr.number, pull);
      return pull;
    },
    addCheckRun: (fullName, headSha, name, conclusion) => {
      const started_at = '2025-01-01T00:00:00Z';
      const completed_at = conclusion === null ? null : '2025-01-01T00:05:00Z';
      fake.repo(fullName).checkRuns.push({ id: nextId(), name, head_sha: headSha, status: conclusion === null ? 'in_progress' : 'completed', conclusion, started_at, completed_at } as unknown as CheckRun);
    },
    fail: (f) => faults.push({ ...f, times: f.times ?? 1 }),
    hold: (method, path, perform) => {
      let arrived = (): void => undefined;
      let release = (): void => undefined;
      const arrivedPromise = new Promise<void>((resolve) => (arrived = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      if (!perform) throw new Error('holding before the effect is not implemented: use perform=true');
      holds.push({ method, path, perform, arrived, released });
      return { arrived: arrivedPromise, release };
    },
    count: (method, path) => requests.filter((r) => r.method === method && path.test(r.path)).length,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
