import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Kysely, Selectable } from 'kysely';
import { FlowgateError } from '../core/errors.ts';
import { log } from '../core/log.ts';
import type { ServiceJobTable } from '../store/migrations/0005-service.ts';
import type { Database } from '../store/schema.ts';
import { startHeartbeat } from './heartbeat.ts';
import { backoffMs, type JobOptions, type JobQueue, type JobRunner, type TaskHandlers } from './queue.ts';

/** Wakes runners in this process as soon as a job is added (other processes poll). */
const wake = new EventEmitter().setMaxListeners(0);

/** The job queue kept in the store's `service_jobs` table: for SQLite deployments, nothing lost across restarts. */
export function storeQueue(db: Kysely<Database>): JobQueue {
  return {
    add: async (name: string, payload: Record<string, unknown>, options: JobOptions = {}, executor: Kysely<Database> = db) => {
      await executor
        .insertInto('service_jobs')
        .values({
          name,
          payload: JSON.stringify(payload),
          job_key: options.jobKey ?? null,
          queue_name: options.queueName ?? null,
          run_at: Date.now(),
          attempts: 0,
          max_attempts: options.maxAttempts ?? 25,
          locked_by: null,
          locked_at: null,
          last_error: null,
          created_at: Date.now(),
        })
        .onConflict((oc) =>
          // Like graphile-worker's job keys: a pending job with the key is replaced; a running one has lost its key.
          oc.column('job_key').doUpdateSet((eb) => ({ payload: eb.ref('excluded.payload'), run_at: eb.ref('excluded.run_at') })),
        )
        .execute();
      // The caller's transaction may not have committed yet; a runner that finds nothing polls again.
      setImmediate(() => wake.emit('job'));
    },
  };
}

export interface StoreRunnerOptions {
  concurrency?: number;
  pollIntervalMs?: number;
}

/** Runs jobs from `service_jobs` in this process with the given handlers. */
export function runStoreQueue(db: Kysely<Database>, handlers: TaskHandlers, options: StoreRunnerOptions = {}): JobRunner {
  const concurrency = options.concurrency ?? 4;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const runnerId = `store-${randomBytes(6).toString('hex')}`;
  const workerIds = Array.from({ length: concurrency }, (_, i) => `${runnerId}-${i}`);
  let stopped = false;
  let active = 0;
  const wakers = new Set<() => void>();
  const onJob = (): void => {
    for (const w of wakers) w();
  };
  wake.on('job', onJob);

  const claim = async (workerId: string): Promise<Selectable<ServiceJobTable> | undefined> => {
    const now = Date.now();
    return db.transaction().execute(async (tx) => {
      const next = await tx
        .selectFrom('service_jobs')
        .selectAll()
        .where('locked_by', 'is', null)
        .where('run_at', '<=', now)
        .whereRef('attempts', '<', 'max_attempts')
        .where((eb) =>
          eb.or([
            eb('queue_name', 'is', null),
            eb(
              'queue_name',
              'not in',
              eb.selectFrom('service_jobs as busy').select('busy.queue_name').where('busy.locked_by', 'is not', null).where('busy.queue_name', 'is not', null),
            ),
          ]),
        )
        .orderBy('run_at')
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      if (next === undefined) return undefined;
      // The key is released once the job runs, so that a new delivery queues a new run.
      const taken = await tx
        .updateTable('service_jobs')
        .set({ locked_by: workerId, locked_at: now, attempts: next.attempts + 1, job_key: null })
        .where('id', '=', next.id)
        .where('locked_by', 'is', null)
        .executeTakeFirst();
      if (taken.numUpdatedRows === 0n) return undefined;
      return { ...next, attempts: next.attempts + 1, locked_by: workerId, locked_at: now };
    });
  };

  const runOne = async (workerId: string): Promise<boolean> => {
    const job = await claim(workerId);
    if (job === undefined) return false;
    active++;
    try {
      const handler = handlers[job.name];
      if (handler === undefined) throw new FlowgateError('INTERNAL', `No handler for job "${job.name}". Upgrade this worker.`);
      await handler(JSON.parse(job.payload), { attempt: job.attempts, jobKey: job.job_key });
      await db.deleteFrom('service_jobs').where('id', '=', job.id).execute();
    } catch (error) {
      log.warn({ err: error, job: job.name, attempt: job.attempts }, 'job failed; it will be retried');
      await db
        .updateTable('service_jobs')
        .set({ locked_by: null, locked_at: null, last_error: (error as Error).message, run_at: Date.now() + backoffMs(job.attempts) })
        .where('id', '=', job.id)
        .execute();
    } finally {
      active--;
    }
    return true;
  };

  const loop = async (workerId: string): Promise<void> => {
    while (!stopped) {
      let worked = false;
      try {
        worked = await runOne(workerId);
      } catch (error) {
        log.error({ err: error }, 'job queue poll failed');
      }
      if (worked) continue;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          wakers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, pollIntervalMs);
        wakers.add(done);
      });
    }
  };

  const heartbeat = startHeartbeat(
    db,
    () => workerIds,
    async (dead) => {
      await db.updateTable('service_jobs').set({ locked_by: null, locked_at: null }).where('locked_by', 'in', dead).execute();
    },
  );
  const loops = workerIds.map((id) => loop(id));

  return {
    idle: async (timeoutMs = 30_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const pending = await db
          .selectFrom('service_jobs')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .whereRef('attempts', '<', 'max_attempts')
          .executeTakeFirstOrThrow();
        if (pending.n === 0 && active === 0) return;
        if (Date.now() > until) throw new FlowgateError('INTERNAL', `Jobs still pending after ${timeoutMs} ms.`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: async () => {
      stopped = true;
      onJob();
      wake.off('job', onJob);
      await Promise.all(loops);
      await heartbeat.stop();
    },
  };
}
