import type { Kysely, RawBuilder } from 'kysely';
import type { Database } from '../store/schema.ts';

/** Options for one queued job. */
export interface JobOptions {
  /** At most one pending job per key: adding a key already queued does not queue a second job. */
  jobKey?: string;
  maxAttempts?: number;
  /** Jobs of one named queue run one at a time, in order. */
  queueName?: string;
}

/**
 * Where work is queued. `db` lets the caller queue inside its own transaction, so that a stored
 * webhook delivery and its job commit together (or not at all).
 */
export interface JobQueue {
  add(name: string, payload: Record<string, unknown>, options?: JobOptions, db?: Kysely<Database>): Promise<void>;
  /**
   * The SQL expression that adds the job, when the queue lives in the same PostgreSQL: a caller can
   * then store a row and queue its job in one statement (a data-modifying CTE) instead of a
   * four-round-trip transaction.
   */
  addExpression?(name: string, payload: Record<string, unknown>, options?: JobOptions): RawBuilder<unknown>;
}

/** What a task handler learns about the job it runs. */
export interface TaskContext {
  /** 1 on the first run, 2 on the first retry, ... */
  attempt: number;
  jobKey: string | null;
}

/** Runs one job; throwing makes the queue retry it later with back-off. */
export type TaskHandler = (payload: unknown, context: TaskContext) => Promise<void>;

/** Handlers by task name; the same handlers run under either queue. */
export type TaskHandlers = Record<string, TaskHandler>;

/** A running set of workers. */
export interface JobRunner {
  /** Resolves once no job is queued or running (tests and benchmarks). */
  idle(timeoutMs?: number): Promise<void>;
  /** Stops taking jobs, waits for running ones, releases connections. */
  stop(): Promise<void>;
}

/** Seconds after which a worker that stopped beating is taken as dead and its jobs unlocked. */
export function staleWorkerSeconds(): number {
  const fromEnv = Number(process.env['FLOWGATE_WORKER_STALE_SECONDS']);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 30;
}

/** Retry delay after a failed attempt: exponential from one second, capped at ten minutes. */
export function backoffMs(attempt: number): number {
  return Math.min(600_000, 1000 * 2 ** Math.max(0, attempt - 1));
}
