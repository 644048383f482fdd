import { appendAuditBatch } from '../decisions/audit/log.ts';
import { ingestRawEvents } from '../sources/events/ingest.ts';
import { repositoryForEvents } from '../sources/events/repository.ts';
import type { EventIngestor } from '../outputs/server/api.ts';
import type { AuditSink } from './tasks.ts';

/** POST /api/events stores through the events module: validated, idempotent by event id, all or nothing. */
export const defaultIngest: EventIngestor = async (db, repoKey, events) => {
  const repository = await repositoryForEvents(db, repoKey);
  return ingestRawEvents(db, repository.id, events, 'api');
};

/** Every decision goes to the tamper-evident audit log, in the transaction that records it (a group commit's in one append). */
export const defaultAudit: AuditSink = async (db, entries) => {
  await appendAuditBatch(db, entries);
};
