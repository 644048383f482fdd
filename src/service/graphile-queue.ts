import { EventEmitter } from 'node:events';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { Logger, makeWorkerUtils, run, type LogFunctionFactory, type Runner, type TaskList, type WorkerEvents, type WorkerUtils } from 'graphile-worker';
import { FlowgateError } from '../core/errors.ts';
import { log } from '../core/log.ts';
import type { Database } from '../store/schema.ts';
import { startHeartbeat } from './heartbeat.ts';
import type { JobOptions, JobQueue, JobRunner, TaskHandlers } from './queue.ts';

/** graphile-worker's own messages go through flowgate's logger. */
const logFactory: LogFunctionFactory = (scope) => (level, message, meta) => {
  const name: string = level;
  const method = name === 'error' ? 'error' : name === 'warning' ? 'warn' : 'debug';
  log[method]({ scope, ...meta }, message);
};
const workerLogger = new Logger(logFactory);

/** Installs or upgrades graphile-worker's schema in the database at `connectionString`. */
export async function migrateGraphile(connectionString: string): Promise<void> {
  const utils = await makeWorkerUtils({ connectionString, logger: workerLogger });
  try {
    await utils.migrate();
  } finally {
    await utils.release();
  }
}

/**
 * The job queue on graphile-worker (PostgreSQL). Jobs are added with SQL through the caller's
 * connection, so that they commit in the caller's transaction; `graphile_worker.add_job` must exist
 * (run `migrateGraphile` first; the server does on start).
 */
export function graphileQueue(db: Kysely<Database>): JobQueue {
  const addExpression = (name: string, payload: Record<string, unknown>, options: JobOptions = {}): RawBuilder<unknown> =>
    sql`graphile_worker.add_job(${name}, ${JSON.stringify(payload)}::json, queue_name => ${options.queueName ?? null}::text, job_key => ${options.jobKey ?? null}::text, max_attempts => ${options.maxAttempts ?? 25}::int)`;
  return {
    add: async (name: string, payload: Record<string, unknown>, options: JobOptions = {}, executor: Kysely<Database> = db) => {
      await sql`select ${addExpression(name, payload, options)}`.execute(executor);
    },
    addExpression,
  };
}

export interface GraphileRunnerOptions {
  concurrency?: number;
  pollIntervalMs?: number;
}

/** Runs graphile-worker in this process with the given handlers; any number of processes may run it. */
export async function runGraphileQueue(
  connectionString: string,
  db: Kysely<Database>,
  handlers: TaskHandlers,
  options: GraphileRunnerOptions = {},
): Promise<JobRunner> {
  const taskList: TaskList = {};
  for (const [name, handler] of Object.entries(handlers)) {
    taskList[name] = async (payload, helpers) => {
      await handler(payload, { attempt: helpers.job.attempts, jobKey: helpers.job.key });
    };
  }
  const workerIds = new Set<string>();
  // Listen before the pool starts: its workers are created inside run().
  const events = new EventEmitter() as WorkerEvents;
  // Jobs are locked by the pool's id (and, in older versions, the worker's): beat for both.
  events.on('pool:create', ({ workerPool }) => workerIds.add(workerPool.id));
  events.on('pool:release', ({ workerPool }) => workerIds.delete(workerPool.id));
  events.on('worker:create', ({ worker }) => workerIds.add(worker.workerId));
  events.on('worker:release', ({ worker }) => workerIds.delete(worker.workerId));
  const runner: Runner = await run({
    events,
    connectionString,
    concurrency: options.concurrency ?? 4,
    // Jobs waiting behind a busy named queue are found by polling (no NOTIFY when a queue frees up).
    pollInterval: options.pollIntervalMs ?? 250,
    noHandleSignals: true,
    logger: workerLogger,
    taskList,
    // Completions within one tick go to PostgreSQL as one statement. No local queue (batched job
    // fetching): a batch may take two jobs of one named queue, and a pull request's jobs must not overlap.
    preset: { worker: { completeJobBatchDelay: 0 } },
  });
  const workerUtils: WorkerUtils = await makeWorkerUtils({ connectionString, logger: workerLogger });
  const heartbeat = startHeartbeat(
    db,
    () => [...workerIds],
    (dead) => workerUtils.forceUnlockWorkers(dead),
  );
  return {
    idle: async (timeoutMs = 30_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs where attempts < max_attempts`.execute(db);
        if ((rows[0]?.n ?? 0) === 0) return;
        if (Date.now() > until) throw new FlowgateError('INTERNAL', `Jobs still pending after ${timeoutMs} ms.`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop: async () => {
      await runner.stop();
      await heartbeat.stop();
      await workerUtils.release();
    },
  };
}
