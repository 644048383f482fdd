import type { Kysely } from 'kysely';
import { ingestEvents } from '../../../sources/events/ingest.ts';
import { FlowEvent } from '../../../sources/events/schema.ts';
import type { Database, IdentityKind } from '../../../store/schema.ts';

/**
 * Writes store rows directly (repository, identities, changes with files, events) for tests of
 * the store-only routing paths, where a git repository would add nothing but time.
 */
export interface RowSeeder {
  repoId: number;
  person(name: string, options?: { login?: string | null; kind?: IdentityKind }): Promise<number>;
  change(options: { author: string; time: number; files: readonly string[]; prNumber?: number; kind?: 'direct' | 'squash' | 'merge'; lines?: number }): Promise<number>;
  events(events: readonly Record<string, unknown>[]): Promise<void>;
}

/** A seeder for one repository stored under `key`. */
export async function rowSeeder(db: Kysely<Database>, key: string): Promise<RowSeeder> {
  const repo = await db.insertInto('repositories').values({ key, path: null, branch: 'main', tip_sha: null, created_at: 0, updated_at: 0 }).returning('id').executeTakeFirstOrThrow();
  const ids = new Map<string, number>();
  let position = 0;
  return {
    repoId: repo.id,
    async person(name, options = {}) {
      const email = `${name.toLowerCase()}@example.com`;
      const login = options.login === undefined ? name.toLowerCase() : options.login;
      const row = await db
        .insertInto('identities')
        .values({ key: `${name} <${email}>`, name, email, kind: options.kind ?? 'person', tool: null, github_login: login })
        .returning('id')
        .executeTakeFirstOrThrow();
      ids.set(name, row.id);
      return row.id;
    },
    async change(options) {
      const authorId = ids.get(options.author);
      if (authorId === undefined) throw new Error(`seed: unknown person ${options.author}`);
      const p = position++;
      const lines = options.lines ?? 10;
      const row = await db
        .insertInto('changes')
        .values({
          repo_id: repo.id,
          sha: p.toString(16).padStart(40, 'a'),
          position: p,
          parents: '[]',
          kind: options.kind ?? 'squash',
          author_id: authorId,
          author_name: options.author,
          author_email: `${options.author.toLowerCase()}@example.com`,
          author_time: options.time,
          committer_id: authorId,
          committer_name: options.author,
          committer_email: `${options.author.toLowerCase()}@example.com`,
          commit_time: options.time,
          subject: `change ${p}`,
          body: '',
          trailers: '[]',
          pr_number: options.prNumber ?? null,
          coding_started_at: options.time,
          files_changed: options.files.length,
          lines_added: lines * options.files.length,
          lines_deleted: 0,
          provenance: 'human',
          tool: null,
          provenance_strength: 'none',
          provenance_evidence: '[]',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (options.files.length > 0) {
        await db
          .insertInto('change_files')
          .values(options.files.map((path) => ({ change_id: row.id, path, old_path: null, status: 'M', added: lines, deleted: 0, binary: 0 })))
          .execute();
      }
      return row.id;
    },
    async events(events) {
      await ingestEvents(db, repo.id, events.map((e) => FlowEvent.parse(e)), 'import');
    },
  };
}
