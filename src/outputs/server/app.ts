import { Hono, type Context } from 'hono';
import type { Kysely } from 'kysely';
import { httpStatusByCode, toFlowgateError, FlowgateError } from '../../core/errors.ts';
import { log } from '../../core/log.ts';
import type { JobQueue } from '../../service/queue.ts';
import { acceptDelivery, signatureVerifier } from '../../sources/github/webhook.ts';
import type { Database } from '../../store/schema.ts';
import { apiRoutes, type EventIngestor } from './api.ts';
import { dashboardRoutes, type Teams } from '../dashboard/routes.tsx';

/** What the HTTP server needs; it holds no state of its own, so any number of replicas may run. */
export interface ServerDeps {
  db: Kysely<Database>;
  queue: JobQueue;
  /** The GitHub App's webhook secret; without it webhooks are refused. */
  webhookSecret: string | undefined;
  /** Stores posted events (the events module's `ingestEvents`). */
  ingest?: EventIngestor;
  /** Teams for the dashboard's team filter (from the config `flowgate serve` loads). */
  teams?: Teams;
}

/** Maps an error to the JSON body and HTTP status every route answers with. */
export function errorResponse(c: Context, error: unknown): Response {
  const failure = toFlowgateError(error);
  const status = httpStatusByCode[failure.code];
  if (status >= 500) log.error({ err: error, code: failure.code }, 'request failed');
  return c.json({ error: { code: failure.code, message: failure.message } }, status as 500);
}

/** The flowgate HTTP server: GitHub webhooks, the JSON API and the dashboard. */
export function createServer(deps: ServerDeps): Hono {
  const app = new Hono();
  app.onError((error, c) => errorResponse(c, error));
  app.get('/healthz', (c) => c.json({ ok: true }));

  const verify = deps.webhookSecret === undefined || deps.webhookSecret === '' ? undefined : signatureVerifier(deps.webhookSecret);
  app.post('/webhooks/github', async (c) => {
    if (verify === undefined) {
      throw new FlowgateError('UNAUTHORIZED', 'Webhooks are disabled: set FLOWGATE_WEBHOOK_SECRET to the GitHub App\'s webhook secret.');
    }
    const body = await c.req.text();
    verify(body, c.req.header('x-hub-signature-256'));
    const id = c.req.header('x-github-delivery');
    const event = c.req.header('x-github-event');
    if (id === undefined || id === '' || event === undefined || event === '') {
      throw new FlowgateError('USAGE', 'A webhook needs the X-GitHub-Delivery and X-GitHub-Event headers.');
    }
    const accepted = await acceptDelivery(deps.db, deps.queue, { id, event, body });
    return c.json({ delivery: id, duplicate: !accepted }, 202);
  });

  app.route('/api', apiRoutes(deps.db, deps.ingest));
  app.route('/', dashboardRoutes(deps.db, deps.teams));
  return app;
}
