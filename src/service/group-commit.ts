import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

/** Runs units of work in shared transactions (group commit); each unit still commits or rolls back whole. */
export interface TransactionBatcher {
  run<T>(work: (tx: Kysely<Database>) => Promise<T>): Promise<T>;
}

interface Pending {
  work: (tx: Kysely<Database>) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit: units arriving while a transaction runs wait and then run together in the next
 * one, so that N decisions cost one commit (one WAL flush) and one turn of the audit log's lock
 * instead of N. Why: every decision appends to the audit chain under one lock shared by all
 * workers, so with separate transactions decisions queue on that lock and its commit. If a shared
 * transaction fails, each of its units runs again alone, so one bad unit fails only itself.
 */
export function transactionBatcher(db: Kysely<Database>, maxBatch = 32): TransactionBatcher {
  const queue: Pending[] = [];
  let running = false;
  const runAlone = async (item: Pending): Promise<void> => {
    try {
      item.resolve(await db.transaction().execute(item.work));
    } catch (error) {
      item.reject(error);
    }
  };
  const flush = async (): Promise<void> => {
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, maxBatch);
        const only = batch[0];
        if (batch.length === 1 && only !== undefined) {
          await runAlone(only);
          continue;
        }
        let results: unknown[];
        try {
          results = await db.transaction().execute(async (tx) => {
            const out: unknown[] = [];
            for (const item of batch) out.push(await item.work(tx));
            return out;
          });
        } catch {
          for (const item of batch) await runAlone(item);
          continue;
        }
        batch.forEach((item, i) => item.resolve(results[i]));
      }
    } finally {
      running = false;
    }
  };
  return {
    run: <T>(work: (tx: Kysely<Database>) => Promise<T>): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: (value) => resolve(value as T), reject });
        if (!running) void flush();
      }),
  };
}
