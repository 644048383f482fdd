import type { ProvenanceClass } from '../../../store/schema.ts';
import type { Store } from '../../../store/store.ts';

/** A change to seed directly into the store (what the miner would have written). */
export interface SeedChange {
  sha: string;
  author?: string;
  prNumber?: number | null;
  kind?: 'direct' | 'merge' | 'squash';
  codingStartedAt: number;
  commitTime: number;
  subject?: string;
  body?: string;
  linesAdded?: number;
  linesDeleted?: number;
  provenance?: ProvenanceClass;
  tool?: string | null;
  files?: { path: string; added: number }[];
}

/** Inserts a repository and its mainline changes in order (positions 0, 1, ...); returns the repository id and change ids. */
export async function seedRepository(store: Store, key: string, changes: SeedChange[], branch = 'main'): Promise<{ repoId: number; ids: number[] }> {
  const now = 1_700_000_000;
  const repo = await store.db
    .insertInto('repositories')
    .values({ key, path: null, branch, tip_sha: null, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  const identities = new Map<string, number>();
  const ids: number[] = [];
  for (const [position, c] of changes.entries()) {
    const author = c.author ?? 'Alice';
    let identity = identities.get(author);
    if (identity === undefined) {
      const row = await store.db
        .insertInto('identities')
        .values({ key: `${author} <${author.toLowerCase()}@example.com>`, name: author, email: `${author.toLowerCase()}@example.com`, kind: 'person', tool: null, github_login: author.toLowerCase() })
        .onConflict((oc) => oc.column('key').doUpdateSet({ name: author }))
        .returning('id')
        .executeTakeFirstOrThrow();
      identity = row.id;
      identities.set(author, identity);
    }
    const row = await store.db
      .insertInto('changes')
      .values({
        repo_id: repo.id,
        sha: c.sha.padEnd(40, '0'),
        position,
        parents: '[]',
        kind: c.kind ?? (c.prNumber == null ? 'direct' : 'merge'),
        author_id: identity,
        author_name: author,
        author_email: `${author.toLowerCase()}@example.com`,
        author_time: c.codingStartedAt,
        committer_id: identity,
        committer_name: author,
        committer_email: `${author.toLowerCase()}@example.com`,
        commit_time: c.commitTime,
        subject: c.subject ?? `change ${position}`,
        body: c.body ?? '',
        trailers: '[]',
        pr_number: c.prNumber ?? null,
        coding_started_at: c.codingStartedAt,
        files_changed: c.files?.length ?? 1,
        lines_added: c.linesAdded ?? 10,
        lines_deleted: c.linesDeleted ?? 2,
        provenance: c.provenance ?? 'human',
        tool: c.tool ?? null,
        provenance_strength: 'none',
        provenance_evidence: '[]',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(row.id);
    for (const f of c.files ?? []) {
      await store.db.insertInto('change_files').values({ change_id: row.id, path: f.path, old_path: null, status: 'M', added: f.added, deleted: 0, binary: 0 }).execute();
    }
  }
  return { repoId: repo.id, ids };
}
