import type { Kysely, Selectable } from 'kysely';
import type { MinedChange, Provenance } from '../changes/change.ts';
import type { ResolvedIdentity } from '../changes/identities.ts';
import type { ChangeTable, Database, ProvenanceClass } from './schema.ts';
import type { Tx } from './store.ts';

export type StoredChange = Selectable<ChangeTable>;

/** A mined change ready to store: its provenance and resolved identities. */
export interface ChangeToStore {
  change: MinedChange;
  provenance: Provenance;
  author: ResolvedIdentity;
  committer: ResolvedIdentity;
  /** Resolved authors of the commits a merge brought in, in the same order as change.commits. */
  commitAuthors: ResolvedIdentity[];
}

/** Inserts (or finds) identities and returns key -> id. Safe under concurrent writers. */
export async function upsertIdentities(tx: Tx, identities: ResolvedIdentity[], cache: Map<string, number>): Promise<void> {
  const missing = new Map<string, ResolvedIdentity>();
  for (const identity of identities) if (!cache.has(identity.key)) missing.set(identity.key, identity);
  if (missing.size === 0) return;
  const keys = [...missing.keys()];
  for (let i = 0; i < keys.length; i += 500) {
    const slice = keys.slice(i, i + 500);
    await tx
      .insertInto('identities')
      .values(
        slice.map((key) => {
          const id = missing.get(key) as ResolvedIdentity;
          return { key, name: id.name, email: id.email, kind: id.kind, tool: null, github_login: id.githubLogin };
        }),
      )
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const rows = await tx.selectFrom('identities').select(['id', 'key']).where('key', 'in', slice).execute();
    for (const row of rows) cache.set(row.key, row.id);
  }
}

/**
 * Writes a batch of changes (with files and brought-in commits) after `firstPosition - 1` and moves
 * the repository's tip to the last one, in the caller's transaction: a killed process leaves either
 * the whole batch or none of it.
 */
export async function insertChanges(tx: Tx, repoId: number, firstPosition: number, batch: ChangeToStore[], identityIds: Map<string, number>): Promise<void> {
  if (batch.length === 0) return;
  await upsertIdentities(
    tx,
    batch.flatMap((b) => [b.author, b.committer, ...b.commitAuthors]),
    identityIds,
  );
  const idOf = (identity: ResolvedIdentity): number => identityIds.get(identity.key) ?? 0;
  // Agents and bots seen as authors are recorded on their identity, so one agent is one identity everywhere.
  // Only author evidence that itself says agent or automation counts: `Ada (aider)` stays a person.
  for (const item of batch) {
    const authorEvidence = item.provenance.evidence.find(
      (e) => (e.where === 'author-email' || e.where === 'author-name') && e.class !== 'ai-assisted' && e.class !== 'human',
    );
    if (authorEvidence === undefined) continue;
    await tx
      .updateTable('identities')
      .set({ kind: authorEvidence.class === 'agent' ? 'agent' : 'bot', tool: authorEvidence.tool })
      .where('id', '=', idOf(item.author))
      .execute();
  }
  const rows = await tx
    .insertInto('changes')
    .values(
      batch.map(({ change, provenance, author, committer }, i) => ({
        repo_id: repoId,
        sha: change.sha,
        position: firstPosition + i,
        parents: JSON.stringify(change.parents),
        kind: change.kind,
        author_id: idOf(author),
        author_name: change.author.name,
        author_email: change.author.email,
        author_time: change.authorTime,
        committer_id: idOf(committer),
        committer_name: change.committer.name,
        committer_email: change.committer.email,
        commit_time: change.commitTime,
        subject: change.subject,
        body: change.body,
        trailers: JSON.stringify(change.trailers),
        pr_number: change.prNumber,
        coding_started_at: change.codingStartedAt,
        files_changed: change.files.length,
        lines_added: change.files.reduce((sum, f) => sum + (f.added ?? 0), 0),
        lines_deleted: change.files.reduce((sum, f) => sum + (f.deleted ?? 0), 0),
        provenance: provenance.class,
        tool: provenance.tool,
        provenance_strength: provenance.strength,
        provenance_evidence: JSON.stringify(provenance.evidence),
      })),
    )
    .returning(['id', 'sha'])
    .execute();
  const idBySha = new Map(rows.map((r) => [r.sha, r.id]));

  const files = batch.flatMap(({ change }) =>
    change.files.map((f) => ({
      change_id: idBySha.get(change.sha) ?? 0,
      path: f.path,
      old_path: f.oldPath,
      status: f.status,
      added: f.added,
      deleted: f.deleted,
      binary: f.binary ? 1 : 0,
    })),
  );
  for (let i = 0; i < files.length; i += 1000) await tx.insertInto('change_files').values(files.slice(i, i + 1000)).execute();

  const commits = batch.flatMap(({ change, commitAuthors }) =>
    change.commits.map((c, j) => ({
      change_id: idBySha.get(change.sha) ?? 0,
      sha: c.sha,
      author_id: idOf(commitAuthors[j] ?? ({ key: '' } as ResolvedIdentity)),
      author_time: c.authorTime,
      subject: c.subject,
    })),
  );
  for (let i = 0; i < commits.length; i += 1000) await tx.insertInto('change_commits').values(commits.slice(i, i + 1000)).execute();

  const notes = batch.flatMap(({ change }) =>
    change.notes.map((n) => ({ repo_id: repoId, sha: change.sha, ref: n.ref, body: n.body })),
  );
  for (const note of notes) {
    await tx
      .insertInto('notes')
      .values(note)
      .onConflict((oc) => oc.columns(['repo_id', 'sha', 'ref']).doUpdateSet({ body: note.body }))
      .execute();
  }

  const last = batch[batch.length - 1];
  await tx
    .updateTable('repositories')
    .set({ tip_sha: last?.change.sha ?? null, updated_at: Math.floor(Date.now() / 1000) })
    .where('id', '=', repoId)
    .execute();
}

/** Deletes the stored changes after `position` (a rewritten mainline), and moves the tip back. */
export async function truncateChanges(tx: Tx, repoId: number, position: number, tipSha: string | null): Promise<number> {
  const doomed = await tx.selectFrom('changes').select('id').where('repo_id', '=', repoId).where('position', '>', position).execute();
  if (doomed.length > 0) {
    const ids = doomed.map((d) => d.id);
    for (let i = 0; i < ids.length; i += 500) {
      const slice = ids.slice(i, i + 500);
      // Explicit deletes: SQLite only cascades with foreign_keys on, and other modules' tables may not cascade.
      await tx.deleteFrom('change_files').where('change_id', 'in', slice).execute();
      await tx.deleteFrom('change_commits').where('change_id', 'in', slice).execute();
      await tx.deleteFrom('changes').where('id', 'in', slice).execute();
    }
  }
  await tx.updateTable('repositories').set({ tip_sha: tipSha }).where('id', '=', repoId).execute();
  return doomed.length;
}

/** Filters for listing changes. */
export interface ChangeFilter {
  provenance?: ProvenanceClass | undefined;
  tool?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  limit?: number | undefined;
}

/** Stored changes of a repository, newest first, filtered. */
export async function listChanges(db: Kysely<Database>, repoId: number, filter: ChangeFilter = {}): Promise<StoredChange[]> {
  let query = db.selectFrom('changes').selectAll().where('repo_id', '=', repoId);
  if (filter.provenance !== undefined) query = query.where('provenance', '=', filter.provenance);
  if (filter.tool !== undefined) query = query.where('tool', '=', filter.tool);
  if (filter.since !== undefined) query = query.where('commit_time', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('commit_time', '<', filter.until);
  query = query.orderBy('position', 'desc');
  if (filter.limit !== undefined) query = query.limit(filter.limit);
  return query.execute();
}

/** Counts of a repository's changes by provenance class and by tool. */
export async function countChanges(db: Kysely<Database>, repoId: number): Promise<{ total: number; byProvenance: Record<string, number>; byTool: Record<string, number> }> {
  const rows = await db
    .selectFrom('changes')
    .select(['provenance', 'tool', (eb) => eb.fn.countAll<number>().as('n')])
    .where('repo_id', '=', repoId)
    .groupBy(['provenance', 'tool'])
    .execute();
  const byProvenance: Record<string, number> = { human: 0, 'ai-assisted': 0, agent: 0, automation: 0 };
  const byTool: Record<string, number> = {};
  let total = 0;
  for (const row of rows) {
    const n = row.n;
    total += n;
    byProvenance[row.provenance] = (byProvenance[row.provenance] ?? 0) + n;
    if (row.tool !== null) byTool[row.tool] = (byTool[row.tool] ?? 0) + n;
  }
  return { total, byProvenance, byTool };
}
