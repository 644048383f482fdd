import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

/** Repositories, identities, changes with their files and brought-in commits, git notes. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const big = dialect.bigint;
  await dialect
    .addId(db.schema.createTable('repositories'))
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('path', 'text')
    .addColumn('branch', 'text')
    .addColumn('tip_sha', 'text')
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('updated_at', big, (c) => c.notNull())
    .execute();

  await dialect
    .addId(db.schema.createTable('identities'))
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('tool', 'text')
    .addColumn('github_login', 'text')
    .execute();

  await dialect
    .addId(db.schema.createTable('changes'))
    .addColumn('repo_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('sha', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('parents', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('author_id', 'integer', (c) => c.notNull().references('identities.id'))
    .addColumn('author_name', 'text', (c) => c.notNull())
    .addColumn('author_email', 'text', (c) => c.notNull())
    .addColumn('author_time', big, (c) => c.notNull())
    .addColumn('committer_id', 'integer', (c) => c.notNull().references('identities.id'))
    .addColumn('committer_name', 'text', (c) => c.notNull())
    .addColumn('committer_email', 'text', (c) => c.notNull())
    .addColumn('commit_time', big, (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('trailers', 'text', (c) => c.notNull())
    .addColumn('pr_number', 'integer')
    .addColumn('coding_started_at', big, (c) => c.notNull())
    .addColumn('files_changed', 'integer', (c) => c.notNull())
    .addColumn('lines_added', 'integer', (c) => c.notNull())
    .addColumn('lines_deleted', 'integer', (c) => c.notNull())
    .addColumn('provenance', 'text', (c) => c.notNull())
    .addColumn('tool', 'text')
    .addColumn('provenance_strength', 'text', (c) => c.notNull())
    .addColumn('provenance_evidence', 'text', (c) => c.notNull())
    .addUniqueConstraint('changes_repo_sha', ['repo_id', 'sha'])
    .addUniqueConstraint('changes_repo_position', ['repo_id', 'position'])
    .execute();
  await db.schema.createIndex('changes_repo_time').on('changes').columns(['repo_id', 'commit_time']).execute();
  await db.schema.createIndex('changes_author').on('changes').column('author_id').execute();

  await db.schema
    .createTable('change_files')
    .addColumn('change_id', 'integer', (c) => c.notNull().references('changes.id').onDelete('cascade'))
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('old_path', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('added', 'integer')
    .addColumn('deleted', 'integer')
    .addColumn('binary', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('change_files_change').on('change_files').column('change_id').execute();
  await db.schema.createIndex('change_files_path').on('change_files').column('path').execute();

  await db.schema
    .createTable('change_commits')
    .addColumn('change_id', 'integer', (c) => c.notNull().references('changes.id').onDelete('cascade'))
    .addColumn('sha', 'text', (c) => c.notNull())
    .addColumn('author_id', 'integer', (c) => c.notNull().references('identities.id'))
    .addColumn('author_time', big, (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('change_commits_change').on('change_commits').column('change_id').execute();

  await db.schema
    .createTable('notes')
    .addColumn('repo_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('sha', 'text', (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('notes_pk', ['repo_id', 'sha', 'ref'])
    .execute();
}
