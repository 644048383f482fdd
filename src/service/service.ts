import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { parseConfig } from '../core/config.ts';
import { log } from '../core/log.ts';
import { createServer } from '../outputs/server/app.ts';
import type { EventIngestor } from '../outputs/server/api.ts';
import type { Teams } from '../outputs/dashboard/routes.tsx';
import { gitHubClients, gitHubConfigFromEnv, type GitHubClients, type GitHubConfig } from '../sources/github/client.ts';
import { isPostgresUrl, resolveStoreUrl } from '../store/dialect.ts';
import { openStore, type Store } from '../store/store.ts';
import type { Decider } from './decider.ts';
import { gateDecider } from './gate-decider.ts';
import { graphileQueue, migrateGraphile, runGraphileQueue } from './graphile-queue.ts';
import type { JobQueue, JobRunner } from './queue.ts';
import { storeQueue, runStoreQueue } from './store-queue.ts';
import { serviceHandlers, type AuditSink } from './tasks.ts';
import { defaultAudit, defaultIngest } from './wiring.ts';

export interface ServiceOptions {
  /** Store URL (default FLOWGATE_DB, then the user's data directory). */
  db?: string | undefined;
  /** PostgreSQL schema for the store (default FLOWGATE_DB_SCHEMA). */
  schema?: string | undefined;
  /** HTTP port; 0 picks a free one; undefined runs no HTTP server (a worker). */
  port?: number | undefined;
  host?: string | undefined;
  webhookSecret?: string | undefined;
  /** Workers in this process: SQLite always runs them in process; PostgreSQL leaves them to `flowgate worker` unless asked. */
  workers?: number | undefined;
  github?: GitHubConfig | undefined;
  decide?: Decider | undefined;
  audit?: AuditSink | undefined;
  ingest?: EventIngestor | undefined;
  /** Teams for the dashboard (name to members), e.g. from `teamsFromConfig`. */
  teams?: Teams | undefined;
}

/**
 * Teams from a .flowgate.yml (its `teams` section: name to members), for the dashboard's team
 * filter; an invalid file is an error (CONFIG_INVALID) rather than a dashboard without teams.
 */
export function teamsFromConfig(path: string): Teams {
  const config = parseConfig(readFileSync(path, 'utf8'), path);
  return Object.fromEntries(Object.entries(config.teams).map(([name, team]) => [name, team.members]));
}

/** A running server and/or worker. */
export interface Service {
  store: Store;
  queue: JobQueue;
  /** The bound port, when serving HTTP. */
  port: number | null;
  runner: JobRunner | null;
  stop(): Promise<void>;
}

/**
 * Starts flowgate as a service: the HTTP server (webhooks, API, dashboard) and/or job workers.
 * On SQLite the queue is the store's own table and its workers run in this process; on PostgreSQL
 * it is graphile-worker, and workers run wherever `flowgate worker` runs.
 */
export async function startService(options: ServiceOptions): Promise<Service> {
  const url = resolveStoreUrl(options.db);
  const store = await openStore({ url, schema: options.schema });
  const postgres = isPostgresUrl(url);
  let runner: JobRunner | null = null;
  let server: ServerType | null = null;
  try {
    if (postgres) await migrateGraphile(url);
    const queue = postgres ? graphileQueue(store.db) : storeQueue(store.db);
    const workers = options.workers ?? (postgres ? 0 : 4);
    if (workers > 0) {
      let clients: GitHubClients | undefined;
      const github: GitHubClients = {
        // Credentials are checked on first use, so that a server without them still takes webhooks and API calls.
        forRepo: (owner, repo, installationId) => (clients ??= gitHubClients(options.github ?? gitHubConfigFromEnv())).forRepo(owner, repo, installationId),
      };
      const handlers = serviceHandlers({ db: store.db, github, decide: options.decide ?? gateDecider, audit: options.audit ?? defaultAudit });
      runner = postgres ? await runGraphileQueue(url, store.db, handlers, { concurrency: workers }) : runStoreQueue(store.db, handlers, { concurrency: workers });
    }
    let port: number | null = null;
    if (options.port !== undefined) {
      const app = createServer({ db: store.db, queue, webhookSecret: options.webhookSecret, ingest: options.ingest ?? defaultIngest, teams: options.teams ?? {} });
      const listening = await new Promise<ServerType>((resolve) => {
        const s: ServerType = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: options.host ?? '127.0.0.1' }, () => resolve(s));
      });
      server = listening;
      port = (listening.address() as AddressInfo).port;
      log.info({ port, store: store.url }, 'flowgate server listening');
    }
    const activeRunner = runner;
    const activeServer = server;
    return {
      store,
      queue,
      port,
      runner: activeRunner,
      stop: async () => {
        if (activeServer !== null) await new Promise<void>((resolve) => activeServer.close(() => resolve()));
        if (activeRunner !== null) await activeRunner.stop();
        await store.close();
      },
    };
  } catch (error) {
    if (runner !== null) await runner.stop();
    await store.close();
    throw error;
  }
}
