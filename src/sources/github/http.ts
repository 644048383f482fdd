import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { FlowgateError } from '../../core/errors.ts';
import type { GitHubClient } from './client.ts';
import { withRetries } from './retry.ts';

/**
 * A lean path for the calls every decision makes (the facts query, the check run, the comment, the
 * merge): a keep-alive node:http request with the client's token, native JSON, and the same retry
 * and rate-limit waits as the Octokit plugin. Octokit's request path (hook chains, auth hook,
 * endpoint templates, WHATWG fetch, a JSON parser that keeps big integers) cost about as much CPU
 * per call as the rest of the decision; the calls made only when recovering or paging keep Octokit.
 */

/** Requests longer than this fail (and the job is retried) rather than holding a worker slot for ever. */
const timeoutMs = 120_000;
const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 256 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }) };

/** The client's REST base URL (https://api.github.com, a GHES /api/v3 URL, or a fake). */
function baseUrlOf(client: GitHubClient): string {
  return client.request.endpoint.DEFAULTS.baseUrl.replace(/\/+$/, '');
}

/** GitHub's GraphQL URL for a REST base URL: GitHub Enterprise serves it at /api/graphql, not /api/v3/graphql. */
export function graphqlUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/api\/v3$/, '/api')}/graphql`;
}

interface TokenAuth {
  token?: string;
  createdAt?: string;
}

/** The client's current token (an installation token is cached and renewed by its auth strategy). */
async function tokenOf(client: GitHubClient): Promise<TokenAuth> {
  // createAppAuth wants the type; createTokenAuth and the unauthenticated strategy ignore it.
  return (await client.auth({ type: 'installation' })) as TokenAuth;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined): Promise<Answer> {
  const secure = url.protocol === 'https:';
  const request = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: secure ? agents.https : agents.http, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** An HTTP failure, shaped as the retry logic and callers read it (`status`, `response.headers`). */
function httpError(method: string, path: string, answer: Answer): FlowgateError {
  let message = answer.text.slice(0, 300);
  try {
    const said = (JSON.parse(answer.text) as { message?: unknown }).message;
    if (typeof said === 'string') message = said;
  } catch {
    // Not JSON: the text itself says what went wrong.
  }
  const code = answer.status === 401 ? 'UNAUTHORIZED' : answer.status === 403 && answer.headers['retry-after'] === undefined && answer.headers['x-ratelimit-remaining'] !== '0' ? 'FORBIDDEN' : 'UPSTREAM_FAILED';
  const error = new FlowgateError(code, `GitHub answered ${method} ${path} with ${answer.status}: ${message}`, { details: { status: answer.status } });
  return Object.assign(error, { status: answer.status, response: { headers: answer.headers } });
}

/**
 * One GitHub API request with a JSON body and answer: `path` is a REST path (`/repos/o/n/...`)
 * or `graphql`. Retries as the Octokit plugin does: rate limits on any method, 5xx on reads.
 */
export async function gitHubRequest<T>(client: GitHubClient, method: string, path: string, body?: unknown): Promise<T> {
  const base = baseUrlOf(client);
  const url = new URL(path === 'graphql' ? graphqlUrl(base) : `${base}${path}`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return withRetries(method, path === 'graphql' ? '/graphql' : path, async () => {
    const auth = await tokenOf(client);
    const headers: Record<string, string> = {
      accept: 'application/vnd.github+json',
      'user-agent': 'flowgate',
      'x-github-api-version': '2022-11-28',
      ...(auth.token === undefined ? {} : { authorization: `token ${auth.token}` }),
      ...(payload === undefined ? {} : { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(payload)) }),
    };
    let answer = await send(url, method, headers, payload);
    // A new installation token can take a moment to reach every GitHub server (Octokit's auth retries too).
    for (let wait = 1000; answer.status === 401 && auth.createdAt !== undefined && Date.now() - Date.parse(auth.createdAt) < 5000; wait *= 2) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      answer = await send(url, method, headers, payload);
    }
    if (answer.status >= 400) throw httpError(method, path, answer);
    return (answer.text === '' ? null : JSON.parse(answer.text)) as T;
  });
}

interface GraphqlAnswer<T> {
  data?: T;
  errors?: { type?: string; message: string; path?: (string | number)[] }[];
}

/**
 * A GraphQL query. Errors fail it, except NOT_FOUND ones: GitHub reports a missing object as an
 * error beside a null field, and the caller tells what is missing from the null.
 */
export async function gitHubGraphql<T>(client: GitHubClient, query: string, variables: Record<string, unknown>): Promise<T> {
  const answer = await gitHubRequest<GraphqlAnswer<T>>(client, 'POST', 'graphql', { query, variables });
  const errors = answer.errors ?? [];
  if (errors.length > 0 && (answer.data === undefined || errors.some((e) => e.type !== 'NOT_FOUND'))) {
    throw new FlowgateError('UPSTREAM_FAILED', `GitHub's GraphQL API refused the query: ${errors.map((e) => e.message).join('; ')}`, { details: { errors } });
  }
  if (answer.data === undefined) throw new FlowgateError('UPSTREAM_FAILED', 'GitHub\'s GraphQL API answered without data.');
  return answer.data;
}
