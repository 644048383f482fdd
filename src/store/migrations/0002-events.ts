import type { Generated, Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

/** The event types flowgate stores; see docs/events.md. */
export type EventType = 'pull_request' | 'review' | 'check' | 'deployment' | 'incident';

/**
 * One imported or received event. A single table with typed, nullable columns keeps imports
 * idempotent by (repo_id, event_id) and lets the metrics read everything in one query per type;
 * the original JSON stays in `payload` so nothing sent is lost.
 */
export interface EventTable {
  id: Generated<number>;
  repo_id: number;
  /** The sender's id of the event: re-sending it changes nothing. */
  event_id: string;
  type: EventType;
  /** pull_request: opened | ready | closed | merged; incident: opened | resolved; else null. */
  action: string | null;
  /** When it happened, Unix seconds. */
  occurred_at: number;
  /** The pull request number (pull_request, review). */
  pr_number: number | null;
  /** PR author or reviewer login/name. */
  actor: string | null;
  /** PR head branch or the branch a check ran on. */
  branch: string | null;
  /** PR base branch. */
  base_branch: string | null;
  /** Merge sha, check sha, deployed sha or an incident's suspected sha. */
  sha: string | null;
  /** Check name or deployment environment. */
  name: string | null;
  /** Review state, check conclusion or deployment result. */
  result: string | null;
  /** Incident severity. */
  severity: string | null;
  /** Incident key (several events of one incident share it). */
  ref: string | null;
  /** Incident: the event id of the deployment that caused it, when known. */
  link: string | null;
  /** The event as received (JSON text). */
  payload: string;
  /** 'import' | 'webhook' | 'api' */
  source: string;
  received_at: number;
}

/** Tables for events: pull requests, reviews, checks, deployments, incidents (issue 5). */
export interface EventTables {
  events: EventTable;
}

/** Creates the events table and its lookup indexes. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const big = dialect.bigint;
  await dialect
    .addId(db.schema.createTable('events'))
    .addColumn('repo_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('action', 'text')
    .addColumn('occurred_at', big, (c) => c.notNull())
    .addColumn('pr_number', 'integer')
    .addColumn('actor', 'text')
    .addColumn('branch', 'text')
    .addColumn('base_branch', 'text')
    .addColumn('sha', 'text')
    .addColumn('name', 'text')
    .addColumn('result', 'text')
    .addColumn('severity', 'text')
    .addColumn('ref', 'text')
    .addColumn('link', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('received_at', big, (c) => c.notNull())
    .addUniqueConstraint('events_repo_event', ['repo_id', 'event_id'])
    .execute();
  await db.schema.createIndex('events_repo_type_time').on('events').columns(['repo_id', 'type', 'occurred_at']).execute();
  await db.schema.createIndex('events_repo_pr').on('events').columns(['repo_id', 'pr_number']).execute();
}
