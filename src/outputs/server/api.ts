import { Hono, type Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Kysely } from 'kysely';
import { FlowgateError } from '../../core/errors.ts';
import type { Database } from '../../store/schema.ts';
import { queryChanges, queryDecisions, queryMetrics, readFilters } from './queries.ts';
import { authenticateToken, requireScope, type ApiToken, type TokenScope } from './tokens.ts';

/** Stores posted events for a repository (`owner/name` or a path): the events module's ingest. */
export type EventIngestor = (db: Kysely<Database>, repoKey: string, events: unknown[]) => Promise<{ inserted: number; skipped: number }>;

/** The cookie the dashboard keeps its token in. */
export const sessionCookie = 'flowgate_token';

/** The token of a request: `Authorization: Bearer`, else the dashboard's cookie. */
export function requestSecret(c: Context): string | undefined {
  const header = c.req.header('authorization');
  if (header !== undefined && /^bearer\s+/i.test(header)) return header.replace(/^bearer\s+/i, '').trim();
  return getCookie(c, sessionCookie);
}

/** Authenticates the request and checks its scope. */
export async function authorize(db: Kysely<Database>, c: Context, scope: TokenScope): Promise<ApiToken> {
  const token = await authenticateToken(db, requestSecret(c));
  requireScope(token, scope);
  return token;
}

/** The most events one POST may carry. */
const maxEventsPerPost = 10_000;

/** `/api`: event import (scope ingest) and reads (scope read). */
export function apiRoutes(db: Kysely<Database>, ingest: EventIngestor | undefined): Hono {
  const api = new Hono();

  api.post('/events', async (c) => {
    await authorize(db, c, 'ingest');
    if (ingest === undefined) throw new FlowgateError('INTERNAL', 'This server was started without the events module; events cannot be imported.');
    const repo = c.req.query('repo');
    if (repo === undefined || repo === '') throw new FlowgateError('USAGE', 'POST /api/events needs ?repo=<owner/name> naming the repository the events belong to.');
    const text = await c.req.text();
    const events = parseEventBody(text, c.req.header('content-type') ?? '');
    if (events.length > maxEventsPerPost) {
      throw new FlowgateError('EVENT_INVALID', `${events.length} events in one request; send at most ${maxEventsPerPost} per request.`);
    }
    const result = await ingest(db, repo, events);
    return c.json(result, 200);
  });

  api.get('/changes', async (c) => {
    await authorize(db, c, 'read');
    return c.json({ changes: await queryChanges(db, readFilters(c.req.query())) });
  });

  api.get('/metrics', async (c) => {
    await authorize(db, c, 'read');
    return c.json(await queryMetrics(db, readFilters(c.req.query())));
  });

  api.get('/decisions', async (c) => {
    await authorize(db, c, 'read');
    return c.json({ decisions: await queryDecisions(db, readFilters(c.req.query())) });
  });

  return api;
}

/** Accepts a JSON array, a JSON object with `events`, or JSON lines (application/x-ndjson). */
function parseEventBody(text: string, contentType: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new FlowgateError('EVENT_INVALID', 'The request has no events. Send a JSON array or JSON lines (docs/events.md).');
  if (!contentType.includes('ndjson') && (trimmed.startsWith('[') || trimmed.startsWith('{"events"'))) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new FlowgateError('EVENT_INVALID', `The request body is not valid JSON: ${(error as Error).message}.`, { cause: error });
    }
    if (Array.isArray(parsed)) return parsed;
    const events = (parsed as { events?: unknown }).events;
    if (Array.isArray(events)) return events;
    throw new FlowgateError('EVENT_INVALID', 'Expected a JSON array of events or {"events": [...]}.');
  }
  return trimmed.split(/\r?\n/).flatMap((line, index) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as unknown];
    } catch (error) {
      throw new FlowgateError('EVENT_INVALID', `Line ${index + 1} is not valid JSON: ${(error as Error).message}. Nothing was imported.`, { cause: error });
    }
  });
}
