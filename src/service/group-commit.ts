import type { Kysely } from 'kysely';
import { FlowgateError } from '../core/errors.ts';
import type { Database } from '../store/schema.ts';

/** Finishes several units of one kind together (e.g. their audit entries in one append), in their order. */
export type BatchFinish<P, T> = (tx: Kysely<Database>, prepared: P[]) => Promise<T[]>;

/**
 * One unit of a shared transaction: `prepare` for every unit first, then the finishing step for
 * every unit: `finishBatch` once for all units of a batch that share that same function, else
 * `finish` per unit.
 */
export interface TransactionUnit<P, T> {
  prepare(tx: Kysely<Database>): Promise<P>;
  /** The part that takes a lock shared by all writers (the audit chain's): it runs last, for the whole batch together. */
  finish?: (tx: Kysely<Database>, prepared: P) => Promise<T>;
  /** Finishes this unit together with the batch's other units that give the same function. */
  finishBatch?: BatchFinish<P, T>;
}

/** Runs units of work in shared transactions (group commit); each unit still commits or rolls back whole. */
export interface TransactionBatcher {
  run<P, T>(unit: TransactionUnit<P, T>): Promise<T>;
}

interface Pending {
  unit: TransactionUnit<unknown, unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

async function runUnits(tx: Kysely<Database>, batch: readonly Pending[]): Promise<unknown[]> {
  const prepared: unknown[] = [];
  for (const item of batch) prepared.push(await item.unit.prepare(tx));
  const results: unknown[] = new Array<unknown>(batch.length);
  // Units sharing a batch finisher finish in one call, at the place of the first of them.
  const groups = new Map<BatchFinish<unknown, unknown>, number[]>();
  for (const [i, item] of batch.entries()) {
    const shared = item.unit.finishBatch;
    if (shared !== undefined) groups.set(shared, [...(groups.get(shared) ?? []), i]);
  }
  const done = new Set<BatchFinish<unknown, unknown>>();
  for (const [i, item] of batch.entries()) {
    const shared = item.unit.finishBatch;
    if (shared !== undefined) {
      if (done.has(shared)) continue;
      done.add(shared);
      const members = groups.get(shared) ?? [];
      const finished = await shared(tx, members.map((m) => prepared[m]));
      members.forEach((m, k) => (results[m] = finished[k]));
      continue;
    }
    if (item.unit.finish === undefined) throw new FlowgateError('INTERNAL', 'A transaction unit without a finishing step.');
    results[i] = await item.unit.finish(tx, prepared[i]);
  }
  return results;
}

/**
 * Group commit: units arriving while a transaction runs wait and then run together in the next
 * one, so that N decisions cost one commit (one WAL flush) and one turn of the audit log's lock
 * instead of N. Every unit's `prepare` runs before any `finish`, so the lock that the finishing
 * steps take (appending to the audit chain, shared by every worker process) is held only for
 * those steps and the commit, while other processes prepare their own batches. If a shared
 * transaction fails, each of its units runs again alone, so one bad unit fails only itself.
 */
export function transactionBatcher(db: Kysely<Database>, maxBatch = 32): TransactionBatcher {
  const queue: Pending[] = [];
  let running = false;
  const runAlone = async (item: Pending): Promise<void> => {
    try {
      const [result] = await db.transaction().execute((tx) => runUnits(tx, [item]));
      item.resolve(result);
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
          results = await db.transaction().execute((tx) => runUnits(tx, batch));
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
    run: <P, T>(unit: TransactionUnit<P, T>): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        queue.push({ unit: unit as unknown as TransactionUnit<unknown, unknown>, resolve: (value) => resolve(value as T), reject });
        if (!running) void flush();
      }),
  };
}

/** Runs a unit in a transaction of its own (no batching). */
export async function runUnit<P, T>(db: Kysely<Database>, unit: TransactionUnit<P, T>): Promise<T> {
  const [result] = await db.transaction().execute((tx) => runUnits(tx, [{ unit: unit as unknown as TransactionUnit<unknown, unknown>, resolve: () => undefined, reject: () => undefined }]));
  return result as T;
}
