import type { Kysely } from 'kysely';
import type { Database } from '../../../store/schema.ts';
import type { ProposedChange } from '../model.ts';

/** A stored change as a pull request with the same content would be proposed (to compare the fast feature path with the full pass). */
export async function storedAsProposed(db: Kysely<Database>, changeId: number, fixKind: string | undefined): Promise<ProposedChange> {
  const c = await db.selectFrom('changes').select(['commit_time', 'author_id', 'kind', 'provenance', 'subject']).where('id', '=', changeId).executeTakeFirstOrThrow();
  const files = await db.selectFrom('change_files').select(['path', 'old_path', 'status', 'added', 'deleted']).where('change_id', '=', changeId).execute();
  return {
    time: c.commit_time,
    authorId: c.author_id,
    kind: c.kind,
    provenance: c.provenance,
    commits: 1,
    title: c.subject,
    files: files.map((f) => ({ path: f.path, oldPath: f.old_path, status: f.status, added: f.added, deleted: f.deleted })),
    ...(fixKind === undefined ? {} : { isFix: true, isRevert: fixKind === 'revert' }),
  };
}
