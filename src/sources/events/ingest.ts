import type { Insertable, Kysely } from 'kysely';
import { FlowgateError } from '../../core/errors.ts';
import type { EventTable } from '../../store/migrations/0002-events.ts';
import type { Database } from '../../store/schema.ts';
import { FlowEvent, toSeconds } from './schema.ts';

/** One rejected input line: where, which field, and why. */
export interface EventProblem {
  line: number;
  field: string;
  message: string;
}

/** What an ingest did: new events stored, and ids already present (skipped, unchanged). */
export interface IngestResult {
  inserted: number;
  skipped: number;
}

/** The most problems one error message lists; all of them stay in `details.problems`. */
const shownProblems = 20;
/** Rows per INSERT: well under SQLite's and PostgreSQL's bound-parameter limits at 18 columns. */
const chunkSize = 400;

/** Validates raw values as events; returns the problems of every bad one (line = index + 1). */
export function validateEvents(values: unknown[], firstLine = 1): { events: FlowEvent[]; problems: EventProblem[] } {
  const events: FlowEvent[] = [];
  const problems: EventProblem[] = [];
  values.forEach((value, index) => {
    const result = FlowEvent.safeParse(value);
    if (result.success) {
      events.push(result.data);
      return;
    }
    for (const issue of result.error.issues) {
      problems.push({ line: index + firstLine, field: issue.path.length === 0 ? '(event)' : issue.path.join('.'), message: issue.message });
    }
  });
  return { events, problems };
}

/**
 * Parses JSON-lines text into events, validating every line first: any bad line throws an
 * EVENT_INVALID error listing each problem with its line number and field, and nothing is returned.
 */
export function parseEventLines(text: string, source: string): FlowEvent[] {
  const values: unknown[] = [];
  const lineNumbers: number[] = [];
  const problems: EventProblem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      values.push(JSON.parse(line));
      lineNumbers.push(index + 1);
    } catch (error) {
      problems.push({ line: index + 1, field: '(line)', message: `not valid JSON: ${(error as Error).message}` });
    }
  });
  const validated = validateEvents(values);
  for (const p of validated.problems) problems.push({ ...p, line: lineNumbers[p.line - 1] ?? p.line });
  problems.sort((a, b) => a.line - b.line);
  if (problems.length > 0) throw invalidEvents(problems, source);
  return validated.events;
}

/** The error for a batch with bad events: one line per problem, the first few in the message. */
export function invalidEvents(problems: EventProblem[], source: string): FlowgateError {
  const listed = problems.slice(0, shownProblems).map((p) => `  line ${p.line}: ${p.field}: ${p.message}`);
  const more = problems.length > shownProblems ? [`  ... and ${problems.length - shownProblems} more`] : [];
  return new FlowgateError(
    'EVENT_INVALID',
    `${source}: ${problems.length} problem(s), nothing was imported:\n${[...listed, ...more].join('\n')}\nFix these lines (format: docs/events.md) and import again.`,
    { details: { source, problems } },
  );
}

/** The stored row of one event. */
export function eventRow(repoId: number, event: FlowEvent, source: string, now: number): Insertable<EventTable> {
  const row: Insertable<EventTable> = {
    repo_id: repoId,
    event_id: event.id,
    type: event.type,
    action: null,
    occurred_at: toSeconds(event.at),
    pr_number: null,
    actor: null,
    branch: null,
    base_branch: null,
    sha: null,
    name: null,
    result: null,
    severity: null,
    ref: null,
    link: null,
    payload: JSON.stringify(event),
    source,
    received_at: now,
  };
  switch (event.type) {
    case 'pull_request':
      return {
        ...row,
        action: event.action,
        pr_number: event.number,
        actor: event.author ?? null,
        branch: event.head_branch ?? null,
        base_branch: event.base_branch ?? null,
        sha: event.merge_sha?.toLowerCase() ?? null,
        result: event.draft === true ? 'draft' : null,
      };
    case 'review':
      return { ...row, pr_number: event.number, actor: event.reviewer, result: event.state };
    case 'check':
      return { ...row, name: event.name, sha: event.sha.toLowerCase(), branch: event.branch ?? null, result: event.conclusion };
    case 'deployment':
      return { ...row, name: event.environment, result: event.result, sha: event.sha.toLowerCase() };
    case 'incident':
      return {
        ...row,
        action: event.action,
        ref: event.incident,
        severity: event.severity ?? null,
        link: event.deployment ?? null,
        sha: event.sha?.toLowerCase() ?? null,
      };
  }
}

/**
 * Stores validated events for a repository in one transaction (all or nothing). Idempotent by
 * event id: an id already stored for the repository is skipped, so re-importing a file or
 * re-delivering a webhook changes nothing. Reused by the HTTP API.
 */
export async function ingestEvents(
  db: Kysely<Database>,
  repoId: number,
  events: FlowEvent[],
  source = 'import',
): Promise<IngestResult> {
  const now = Math.floor(Date.now() / 1000);
  // Duplicates inside one batch count once, like duplicates across batches.
  const unique = new Map<string, FlowEvent>();
  for (const event of events) if (!unique.has(event.id)) unique.set(event.id, event);
  const rows = [...unique.values()].map((event) => eventRow(repoId, event, source, now));
  const write = async (tx: Kysely<Database>): Promise<number> => {
    let inserted = 0;
    for (let i = 0; i < rows.length; i += chunkSize) {
      const result = await tx
        .insertInto('events')
        .values(rows.slice(i, i + chunkSize))
        .onConflict((oc) => oc.columns(['repo_id', 'event_id']).doNothing())
        .executeTakeFirst();
      inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
    }
    return inserted;
  };
  let inserted: number;
  try {
    inserted = db.isTransaction ? await write(db) : await db.transaction().execute(write);
  } catch (error) {
    throw new FlowgateError('STORE_FAILED', `Storing ${rows.length} events failed, nothing was imported: ${(error as Error).message}`, {
      cause: error,
      details: { repoId },
    });
  }
  return { inserted, skipped: events.length - inserted };
}

/** Validates unknown values (e.g. an HTTP body) and stores them; bad values throw EVENT_INVALID with their index as line. */
export async function ingestRawEvents(db: Kysely<Database>, repoId: number, values: unknown[], source: string): Promise<IngestResult> {
  const { events, problems } = validateEvents(values);
  if (problems.length > 0) throw invalidEvents(problems, source);
  return ingestEvents(db, repoId, events, source);
}
