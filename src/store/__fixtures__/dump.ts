import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/** Everything stored about one repository's changes, without row ids, for equality checks. */
export async function dumpRepository(db: Kysely<Database>, key: string): Promise<unknown> {
  const repo = await db.selectFrom('repositories').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
  const changes = await db
    .selectFrom('changes')
    .innerJoin('identities as a', 'a.id', 'changes.author_id')
    .selectAll('changes')
    .select(['a.key as author_key', 'a.kind as author_kind'])
    .where('repo_id', '=', repo.id)
    .orderBy('position')
    .execute();
  const files = await db
    .selectFrom('change_files')
    .innerJoin('changes', 'changes.id', 'change_files.change_id')
    .select(['changes.sha', 'change_files.path', 'change_files.old_path', 'change_files.status', 'change_files.added', 'change_files.deleted', 'change_files.binary'])
    .where('changes.repo_id', '=', repo.id)
    .orderBy('changes.position')
    .orderBy('change_files.path')
    .execute();
  const commits = await db
    .selectFrom('change_commits')
    .innerJoin('changes', 'changes.id', 'change_commits.change_id')
    .select(['changes.sha as change_sha', 'change_commits.sha', 'change_commits.author_time'])
    .where('changes.repo_id', '=', repo.id)
    .orderBy('changes.position')
    .orderBy('change_commits.sha')
    .execute();
  return {
    tip: repo.tip_sha,
    changes: changes.map(({ id: _id, author_id: _a, committer_id: _c, repo_id: _r, ...rest }) => rest),
    files,
    commits,
  };
}
