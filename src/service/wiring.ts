import { ingestRawEvents } from '../sources/events/ingest.ts';
import { repositoryForEvents } from '../sources/events/repository.ts';
import type { EventIngestor } from '../outputs/server/api.ts';
import type { AuditSink } from './tasks.ts';

/** POST /api/events stores through the events module: validated, idempotent by event id, all or nothing. */
export const defaultIngest: EventIngestor = async (db, repoKey, events) => {
  const repository = await repositoryForEvents(db, repoKey);
  return ingestRawEvents(db, repository.id, events, 'api');
};

/** Decisions go to the audit log once the audit module exports appendAudit (see the report). */
export const defaultAudit: AuditSink | undefined = undefined;
