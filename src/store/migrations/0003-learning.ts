import type { Generated, Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

/** One change's features as of its own time (JSON object of name -> number). */
export interface ChangeFeaturesTable {
  change_id: number;
  repo_id: number;
  /** JSON object: Kamei's fourteen plus flowgate's own (see docs/risk-model.md). */
  features: string;
  /** Version of the feature computation; rows of an older version are recomputed. */
  version: number;
}

/** A change recognised as a fix. */
export interface FixTable {
  change_id: number;
  repo_id: number;
  /** 'revert' | 'issue' | 'keyword' */
  kind: string;
  /** The text that gave it away. */
  evidence: string;
  /** For a revert, the change it reverts (when found). */
  reverts_change_id: number | null;
}

/** One SZZ label: `inducing_change_id` introduced lines that `fix_change_id` deleted or modified. */
export interface DefectLabelTable {
  repo_id: number;
  inducing_change_id: number;
  fix_change_id: number;
  /** JSON array of { path, line } in the fix's parent; empty for reverts. */
  lines: string;
  /** When the defect became known: the fix's commit time (Unix seconds). */
  known_at: number;
  /** 'revert' | 'szz-stream' | 'szz-blame' */
  method: string;
}

/** A trained per-repository risk model. */
export interface ModelTable {
  id: Generated<number>;
  repo_id: number;
  trained_at: number;
  /** Changes up to this commit time were used for training; labels known by then only. */
  cutoff: number;
  /** JSON: the learner's serialised model (see src/analyses/labels/model.ts). */
  model: string;
  /** JSON: training size, defect rate, validation figures. */
  metrics: string;
}

/** How far each learning step got per repository, so `flowgate analyze` only does new work. */
export interface LearningStateTable {
  repo_id: number;
  step: string;
  /** The highest change id this step has processed (ids only grow, so a rewritten history's new changes are new here too). */
  position: number;
  updated_at: number;
}

/** Tables for features, fixes, defect labels, models (issue 3). */
export interface LearningTables {
  change_features: ChangeFeaturesTable;
  fixes: FixTable;
  defect_labels: DefectLabelTable;
  models: ModelTable;
  learning_state: LearningStateTable;
}

/** Creates the learning tables; every row cascades away with its repository or change. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const big = dialect.bigint;
  await db.schema
    .createTable('change_features')
    .addColumn('change_id', 'integer', (c) => c.primaryKey().references('changes.id').onDelete('cascade'))
    .addColumn('repo_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('features', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('change_features_repo').on('change_features').column('repo_id').execute();

  await db.schema
    .createTable('fixes')
    .addColumn('change_id', 'integer', (c) => c.primaryKey().references('changes.id').onDelete('cascade'))
    .addColumn('repo_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('reverts_change_id', 'integer', (c) => c.references('changes.id').onDelete('set null'))
    .execute();
  await db.schema.createIndex('fixes_repo').on('fixes').column('repo_id').execute();

  await db.schema
    .createTable('defect_labels')
    .addColumn('repo_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('inducing_change_id', 'integer', (c) => c.notNull().references('changes.id').onDelete('cascade'))
    .addColumn('fix_change_id', 'integer', (c) => c.notNull().references('changes.id').onDelete('cascade'))
    .addColumn('lines', 'text', (c) => c.notNull())
    .addColumn('known_at', big, (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('defect_labels_pk', ['inducing_change_id', 'fix_change_id'])
    .execute();
  await db.schema.createIndex('defect_labels_repo').on('defect_labels').column('repo_id').execute();
  await db.schema.createIndex('defect_labels_fix').on('defect_labels').column('fix_change_id').execute();

  await dialect
    .addId(db.schema.createTable('models'))
    .addColumn('repo_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('trained_at', big, (c) => c.notNull())
    .addColumn('cutoff', big, (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('metrics', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('models_repo').on('models').columns(['repo_id', 'trained_at']).execute();

  await db.schema
    .createTable('learning_state')
    .addColumn('repo_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('updated_at', big, (c) => c.notNull())
    .addPrimaryKeyConstraint('learning_state_pk', ['repo_id', 'step'])
    .execute();
}
