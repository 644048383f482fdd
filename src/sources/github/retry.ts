import type { Octokit } from '@octokit/core';
import { log } from '../../core/log.ts';

/** Longest flowgate waits for a rate limit to reset before giving up (FLOWGATE_GITHUB_MAX_WAIT seconds). */
function maxWaitMs(): number {
  const fromEnv = Number(process.env['FLOWGATE_GITHUB_MAX_WAIT']);
  return (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 900) * 1000;
}

interface ErrorLike {
  status?: number;
  response?: { headers?: Record<string, string | number | undefined> };
}

/**
 * How long to wait before retrying a failed request, or null to give up. Rate limits (429, or 403
 * with `retry-after` or `x-ratelimit-remaining: 0`) were refused before anything happened, so any
 * method may be retried; a 5xx may have happened, so only reads (GETs, and GraphQL queries: flowgate
 * sends no mutations) are retried here and writes are left to the job's retry, whose steps look up
 * what already exists first.
 */
export function retryDelayMs(error: unknown, method: string, attempt: number, now = Date.now(), url = ''): number | null {
  const { status, response } = (error ?? {}) as ErrorLike;
  const headers = response?.headers ?? {};
  if (status === 429 || status === 403) {
    const retryAfter = Number(headers['retry-after']);
    if (Number.isFinite(retryAfter) && headers['retry-after'] !== undefined) return retryAfter * 1000;
    if (String(headers['x-ratelimit-remaining']) === '0') {
      const reset = Number(headers['x-ratelimit-reset']) * 1000;
      return Number.isFinite(reset) ? Math.max(0, reset - now) + 1000 : 60_000;
    }
    // A secondary limit without headers: GitHub asks to wait at least a minute.
    if (status === 429) return 60_000;
    return null;
  }
  const read = method === 'GET' || method === 'HEAD' || (method === 'POST' && /(^|\/)graphql$/.test(url));
  if (status !== undefined && status >= 500 && read) {
    return Math.min(30_000, 250 * 2 ** (attempt - 1));
  }
  return null;
}

/**
 * Runs `attempt` until it succeeds or fails for good: retried with the waits `retryDelayMs` gives,
 * at most 6 times, and never waiting longer than FLOWGATE_GITHUB_MAX_WAIT.
 */
export async function withRetries<T>(method: string, url: string, attempt: () => Promise<T>): Promise<T> {
  const maxAttempts = 6;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const wait = retryDelayMs(error, method, n, Date.now(), url);
      if (wait === null || n >= maxAttempts || wait > maxWaitMs()) throw error;
      log.info({ url, status: (error as ErrorLike).status, wait }, 'GitHub request failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** Octokit plugin: retries reads on 5xx with back-off and every request on primary and secondary rate limits. */
export function retryPlugin(octokit: Octokit): void {
  octokit.hook.wrap('request', (request, options) => withRetries(options.method, options.url, async () => request(options)));
}
