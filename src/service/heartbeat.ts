import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import { log } from '../core/log.ts';
import type { Database } from '../store/schema.ts';
import { staleWorkerSeconds } from './queue.ts';

/** A running heartbeat: stop it when the workers stop. */
export interface Heartbeat {
  stop(): Promise<void>;
}

/**
 * Beats for the given workers and, on every beat, unlocks the jobs of workers that stopped beating
 * (a `kill -9`, a lost machine): their jobs run again elsewhere instead of waiting for a lock timeout.
 */
export function startHeartbeat(
  db: Kysely<Database>,
  workerIds: () => string[],
  unlockDead: (deadIds: string[]) => Promise<void>,
  intervalMs = Math.max(500, (staleWorkerSeconds() * 1000) / 4),
): Heartbeat {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const beat = async (): Promise<void> => {
    const now = Date.now();
    for (const id of workerIds()) {
      const updated = await db.updateTable('service_workers').set({ heartbeat_at: now }).where('worker_id', '=', id).executeTakeFirst();
      if (updated.numUpdatedRows === 0n) {
        await db
          .insertInto('service_workers')
          .values({ worker_id: id, host: hostname(), pid: process.pid, heartbeat_at: now })
          .onConflict((oc) => oc.column('worker_id').doUpdateSet({ heartbeat_at: now }))
          .execute();
      }
    }
    const dead = await db
      .selectFrom('service_workers')
      .select('worker_id')
      .where('heartbeat_at', '<', now - staleWorkerSeconds() * 1000)
      .execute();
    if (dead.length === 0) return;
    const ids = dead.map((d) => d.worker_id);
    log.warn({ workers: ids }, 'unlocking the jobs of workers that stopped beating');
    await unlockDead(ids);
    await db.deleteFrom('service_workers').where('worker_id', 'in', ids).execute();
  };
  const tick = (): void => {
    if (stopped) return;
    running = beat().catch((error: unknown) => log.error({ err: error }, 'worker heartbeat failed'));
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
      const ids = workerIds();
      if (ids.length > 0) await db.deleteFrom('service_workers').where('worker_id', 'in', ids).execute();
    },
  };
}
