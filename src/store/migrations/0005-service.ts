import type { Generated, Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

/** One GitHub webhook delivery, stored before it is acknowledged so that nothing received is lost. */
export interface WebhookDeliveryTable {
  id: Generated<number>;
  /** X-GitHub-Delivery: deliveries are idempotent by it. */
  delivery_id: string;
  event: string;
  action: string | null;
  /** `owner/name`, when the payload names a repository. */
  repo: string | null;
  payload: string;
  received_at: number;
  /** 'queued' | 'done' | 'ignored' | 'stale' */
  status: string;
  /** How many times a job started processing it: 1 unless a worker died mid-way. */
  runs: number;
  processed_at: number | null;
  error: string | null;
}

/** The in-process job queue (SQLite deployments); PostgreSQL ones use graphile-worker's own tables. */
export interface ServiceJobTable {
  id: Generated<number>;
  name: string;
  payload: string;
  /** A job with a key already queued is not queued twice. */
  job_key: string | null;
  /** Jobs of one named queue run one at a time (one pull request's deliveries, in order). */
  queue_name: string | null;
  /** Milliseconds since the epoch. */
  run_at: number;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  locked_at: number | null;
  last_error: string | null;
  created_at: number;
}

/** Side effects done on an outside service, by idempotency key, written with the result in one transaction. */
export interface SideEffectTable {
  key: string;
  kind: string;
  /** JSON: what the effect produced (comment id, check run id, merge sha). */
  result: string;
  created_at: number;
}

/** The newest known state of each pull request; a stale or replayed event never overwrites a newer one. */
export interface PrStateTable {
  repo: string;
  number: number;
  head_sha: string;
  base_sha: string;
  base_ref: string;
  /** pull_request.updated_at in Unix seconds. */
  updated_at: number;
  state: string;
  title: string;
  author: string;
  installation_id: number | null;
  /** The head sha whose decision was last published, null until one is. */
  decided_sha: string | null;
  check_run_id: number | null;
}

/** The one flowgate comment on each pull request. */
export interface PrCommentTable {
  repo: string;
  pr_number: number;
  comment_id: number;
  updated_at: number;
}

/** Every decision the service published on a pull request. */
export interface PrDecisionTable {
  id: Generated<number>;
  repo: string;
  pr_number: number;
  head_sha: string;
  delivery_id: string;
  tier: string;
  conclusion: string;
  risk: number | null;
  auto_merge: number;
  merged: number;
  /** JSON: the whole decision as the gate returned it. */
  decision: string;
  created_at: number;
}

/** API tokens: only the SHA-256 of the secret is kept. */
export interface ApiTokenTable {
  id: Generated<number>;
  name: string;
  token_hash: string;
  /** The first characters of the secret, to tell tokens apart in listings. */
  prefix: string;
  /** JSON array of 'ingest' | 'read' | 'admin'. */
  scopes: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** Where a backfill of one resource of one repository stopped, so that it resumes there. */
export interface BackfillCursorTable {
  repo: string;
  resource: string;
  /** The next page's URL; null once the resource is complete. */
  next_url: string | null;
  /** ETag of the first page, for conditional re-runs. */
  etag: string | null;
  done: number;
  updated_at: number;
}

/** Workers alive, by heartbeat; a worker that stops beating has its jobs unlocked by the others. */
export interface ServiceWorkerTable {
  worker_id: string;
  host: string;
  pid: number;
  heartbeat_at: number;
}

/** Tables for webhook deliveries, jobs, side effects, PR state and comments, API tokens, backfill cursors (issue 6). */
export interface ServiceTables {
  webhook_deliveries: WebhookDeliveryTable;
  service_jobs: ServiceJobTable;
  side_effects: SideEffectTable;
  pr_states: PrStateTable;
  pr_comments: PrCommentTable;
  pr_decisions: PrDecisionTable;
  api_tokens: ApiTokenTable;
  backfill_cursors: BackfillCursorTable;
  service_workers: ServiceWorkerTable;
}

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const big = dialect.bigint;
  await dialect
    .addId(db.schema.createTable('webhook_deliveries'))
    .addColumn('delivery_id', 'text', (c) => c.notNull().unique())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('action', 'text')
    .addColumn('repo', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('received_at', big, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('runs', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('processed_at', big)
    .addColumn('error', 'text')
    .execute();

  await dialect
    .addId(db.schema.createTable('service_jobs'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('job_key', 'text', (c) => c.unique())
    .addColumn('queue_name', 'text')
    .addColumn('run_at', big, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('locked_by', 'text')
    .addColumn('locked_at', big)
    .addColumn('last_error', 'text')
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('service_jobs_run_at').on('service_jobs').columns(['run_at']).execute();

  await db.schema
    .createTable('side_effects')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('pr_states')
    .addColumn('repo', 'text', (c) => c.notNull())
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('head_sha', 'text', (c) => c.notNull())
    .addColumn('base_sha', 'text', (c) => c.notNull())
    .addColumn('base_ref', 'text', (c) => c.notNull())
    .addColumn('updated_at', big, (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('installation_id', big)
    .addColumn('decided_sha', 'text')
    .addColumn('check_run_id', big)
    .addPrimaryKeyConstraint('pr_states_pk', ['repo', 'number'])
    .execute();

  await db.schema
    .createTable('pr_comments')
    .addColumn('repo', 'text', (c) => c.notNull())
    .addColumn('pr_number', 'integer', (c) => c.notNull())
    .addColumn('comment_id', big, (c) => c.notNull())
    .addColumn('updated_at', big, (c) => c.notNull())
    .addPrimaryKeyConstraint('pr_comments_pk', ['repo', 'pr_number'])
    .execute();

  await dialect
    .addId(db.schema.createTable('pr_decisions'))
    .addColumn('repo', 'text', (c) => c.notNull())
    .addColumn('pr_number', 'integer', (c) => c.notNull())
    .addColumn('head_sha', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('tier', 'text', (c) => c.notNull())
    .addColumn('conclusion', 'text', (c) => c.notNull())
    .addColumn('risk', 'real')
    .addColumn('auto_merge', 'integer', (c) => c.notNull())
    .addColumn('merged', 'integer', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('pr_decisions_repo_pr').on('pr_decisions').columns(['repo', 'pr_number']).execute();

  await dialect
    .addId(db.schema.createTable('api_tokens'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('last_used_at', big)
    .addColumn('revoked_at', big)
    .execute();

  await db.schema
    .createTable('backfill_cursors')
    .addColumn('repo', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('next_url', 'text')
    .addColumn('etag', 'text')
    .addColumn('done', 'integer', (c) => c.notNull())
    .addColumn('updated_at', big, (c) => c.notNull())
    .addPrimaryKeyConstraint('backfill_cursors_pk', ['repo', 'resource'])
    .execute();

  await db.schema
    .createTable('service_workers')
    .addColumn('worker_id', 'text', (c) => c.primaryKey())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('heartbeat_at', big, (c) => c.notNull())
    .execute();
}
