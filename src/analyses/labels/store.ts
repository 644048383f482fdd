import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { ChangeFeatures, FeatureChange } from '../features/compute.ts';
import type { FixKind } from './fixes.ts';
import type { TracedLine } from './szz.ts';

type Db = Kysely<Database>;

/** The connection behind a Store (anything with `db`), or the connection itself. */
export function dbOf(store: { db: Db } | Db): Db {
  return 'selectFrom' in store ? store : store.db;
}

/** A stored change as the learning steps read it, with its files. */
export interface HistoryChange extends FeatureChange {
  id: number;
  sha: string;
  parent: string | null;
  subject: string;
  body: string;
  prNumber: number | null;
  linesAdded: number;
  linesDeleted: number;
  /** Subjects of the commits a merge brought in. */
  commitSubjects: string[];
}

/** The repository's mainline as stored, oldest first, with files and brought-in commit shas. */
export interface History {
  changes: HistoryChange[];
  brought: { sha: string; position: number }[];
}

const batchSize = 500;

/** Loads every stored change of a repository with its files: a few queries, whatever the size. */
export async function loadHistory(db: Db, repoId: number): Promise<History> {
  const rows = await db
    .selectFrom('changes')
    .select(['id', 'sha', 'position', 'parents', 'subject', 'body', 'pr_number', 'commit_time', 'author_id', 'kind', 'provenance', 'lines_added', 'lines_deleted'])
    .where('repo_id', '=', repoId)
    .orderBy('position')
    .execute();
  const byId = new Map<number, HistoryChange>();
  const changes = rows.map((r): HistoryChange => {
    const parents = JSON.parse(r.parents) as string[];
    const change: HistoryChange = {
      id: r.id,
      sha: r.sha,
      position: r.position,
      parent: parents[0] ?? null,
      subject: r.subject,
      body: r.body,
      // A merge's subject is boilerplate; its PR title (the body's first line) states the purpose.
      title: /^Merge (pull request|branch|remote-tracking branch) /.test(r.subject) ? (r.body.split('\n').find((l) => l.trim() !== '') ?? r.subject) : r.subject,
      prNumber: r.pr_number,
      time: r.commit_time,
      authorId: r.author_id,
      kind: r.kind,
      provenance: r.provenance,
      commits: 1,
      linesAdded: r.lines_added,
      linesDeleted: r.lines_deleted,
      commitSubjects: [],
      files: [],
    };
    byId.set(r.id, change);
    return change;
  });
  const files = await db
    .selectFrom('change_files')
    .innerJoin('changes', 'changes.id', 'change_files.change_id')
    .select(['change_files.change_id', 'change_files.path', 'change_files.old_path', 'change_files.status', 'change_files.added', 'change_files.deleted'])
    .where('changes.repo_id', '=', repoId)
    .execute();
  for (const f of files) byId.get(f.change_id)?.files.push({ path: f.path, oldPath: f.old_path, status: f.status, added: f.added, deleted: f.deleted });
  const commits = await db
    .selectFrom('change_commits')
    .innerJoin('changes', 'changes.id', 'change_commits.change_id')
    .select(['change_commits.change_id', 'change_commits.sha', 'change_commits.subject'])
    .where('changes.repo_id', '=', repoId)
    .execute();
  const brought: History['brought'] = [];
  const counts = new Map<number, number>();
  for (const c of commits) {
    const change = byId.get(c.change_id);
    if (change === undefined) continue;
    counts.set(c.change_id, (counts.get(c.change_id) ?? 0) + 1);
    brought.push({ sha: c.sha, position: change.position });
    if (change.sha !== c.sha) change.commitSubjects.push(c.subject);
  }
  for (const [id, n] of counts) {
    const change = byId.get(id);
    if (change !== undefined) change.commits = Math.max(1, n);
  }
  return { changes, brought };
}

/** A fix to store. */
export interface FixRow {
  changeId: number;
  kind: FixKind;
  evidence: string;
  revertsChangeId: number | null;
}

/** Stores fixes; a fix already stored stays as it is. */
export async function insertFixes(db: Db, repoId: number, fixes: readonly FixRow[]): Promise<void> {
  for (let i = 0; i < fixes.length; i += batchSize) {
    const slice = fixes.slice(i, i + batchSize);
    await db
      .insertInto('fixes')
      .values(slice.map((f) => ({ change_id: f.changeId, repo_id: repoId, kind: f.kind, evidence: f.evidence.slice(0, 500), reverts_change_id: f.revertsChangeId })))
      .onConflict((oc) => oc.column('change_id').doNothing())
      .execute();
  }
}

/** A defect label to store. */
export interface LabelRow {
  inducingChangeId: number;
  fixChangeId: number;
  lines: readonly TracedLine[];
  knownAt: number;
  method: 'revert' | 'szz-stream' | 'szz-blame';
}

/** Stores defect labels; a pair already labelled stays as it is (so a re-run adds nothing twice). */
export async function insertLabels(db: Db, repoId: number, labels: readonly LabelRow[]): Promise<void> {
  for (let i = 0; i < labels.length; i += batchSize) {
    const slice = labels.slice(i, i + batchSize);
    await db
      .insertInto('defect_labels')
      .values(
        slice.map((l) => ({
          repo_id: repoId,
          inducing_change_id: l.inducingChangeId,
          fix_change_id: l.fixChangeId,
          lines: JSON.stringify(l.lines.slice(0, 200)),
          known_at: l.knownAt,
          method: l.method,
        })),
      )
      .onConflict((oc) => oc.columns(['inducing_change_id', 'fix_change_id']).doNothing())
      .execute();
  }
}

/** Stored fixes of a repository: change id -> kind. */
export async function loadFixes(db: Db, repoId: number): Promise<Map<number, string>> {
  const rows = await db.selectFrom('fixes').select(['change_id', 'kind']).where('repo_id', '=', repoId).execute();
  return new Map(rows.map((r) => [r.change_id, r.kind]));
}

/** Stored labels of a repository: inducing change id and when its (first) fix landed. */
export async function loadLabels(db: Db, repoId: number): Promise<{ inducingChangeId: number; fixChangeId: number; knownAt: number; method: string }[]> {
  const rows = await db.selectFrom('defect_labels').select(['inducing_change_id', 'fix_change_id', 'known_at', 'method']).where('repo_id', '=', repoId).execute();
  return rows.map((r) => ({ inducingChangeId: r.inducing_change_id, fixChangeId: r.fix_change_id, knownAt: r.known_at, method: r.method }));
}

/** Stores features (replacing rows of an older version). */
export async function upsertFeatures(db: Db, repoId: number, rows: readonly { changeId: number; features: ChangeFeatures }[], version: number): Promise<void> {
  for (let i = 0; i < rows.length; i += batchSize) {
    const slice = rows.slice(i, i + batchSize);
    await db
      .insertInto('change_features')
      .values(slice.map((r) => ({ change_id: r.changeId, repo_id: repoId, features: JSON.stringify(roundFeatures(r.features)), version })))
      .onConflict((oc) => oc.column('change_id').doUpdateSet((eb) => ({ features: eb.ref('excluded.features'), version: eb.ref('excluded.version') })))
      .execute();
  }
}

function roundFeatures(features: ChangeFeatures): ChangeFeatures {
  const out: ChangeFeatures = {};
  for (const [k, v] of Object.entries(features)) out[k] = Number.isInteger(v) ? v : Math.round(v * 1e4) / 1e4;
  return out;
}

/** Ids of the changes whose features are stored at the given version. */
export async function featureIdsAt(db: Db, repoId: number, version: number): Promise<Set<number>> {
  const rows = await db.selectFrom('change_features').select('change_id').where('repo_id', '=', repoId).where('version', '=', version).execute();
  return new Set(rows.map((r) => r.change_id));
}

/** Stored features of a repository: change id -> features. */
export async function loadFeatures(db: Db, repoId: number): Promise<Map<number, ChangeFeatures>> {
  const rows = await db.selectFrom('change_features').select(['change_id', 'features']).where('repo_id', '=', repoId).execute();
  return new Map(rows.map((r) => [r.change_id, JSON.parse(r.features) as ChangeFeatures]));
}

/** How far a learning step got: the highest change id it processed (-1 for none). */
export async function readState(db: Db, repoId: number, step: string): Promise<number> {
  const row = await db.selectFrom('learning_state').select('position').where('repo_id', '=', repoId).where('step', '=', step).executeTakeFirst();
  return row?.position ?? -1;
}

/** Records how far a learning step got (a change id). */
export async function writeState(db: Db, repoId: number, step: string, position: number): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  await db
    .insertInto('learning_state')
    .values({ repo_id: repoId, step, position, updated_at: now })
    .onConflict((oc) => oc.columns(['repo_id', 'step']).doUpdateSet({ position, updated_at: now }))
    .execute();
}

/** Forgets a repository's fixes and labels (after its history was rewritten below what was processed). */
export async function clearLabels(db: Db, repoId: number): Promise<void> {
  await db.deleteFrom('defect_labels').where('repo_id', '=', repoId).execute();
  await db.deleteFrom('fixes').where('repo_id', '=', repoId).execute();
  await db.deleteFrom('learning_state').where('repo_id', '=', repoId).execute();
}
