import type { Kysely } from 'kysely';
import { FlowgateError } from '../../core/errors.ts';
import type { Database } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';
import { asKnownAt, evaluateChronological, evaluateRolling, type ChronologicalResult, type EvaluationOptions, type RollingOptions, type RollingResult } from '../risk/evaluate.ts';
import { calibrate } from '../risk/calibration.ts';
import { featureVector } from '../risk/engineer.ts';
import { deserializeModel, explainRisk, fitRiskModel, predictRisk, serializeModel, type Contribution, type RiskModel } from '../risk/learner.ts';
import { logisticContributions, logisticMargin } from '../risk/logistic.ts';
import type { FeatureRow } from '../risk/types.ts';
import { computeFeatures, type ChangeFeatures } from '../features/compute.ts';
import { defaultModel } from './default-model.ts';
import { loadKnowledge } from './run.ts';
import { prepareProposedFeatures, proposedChangeFeatures, type ProposedChange, type ProposedPaths } from './proposed.ts';
import { dbOf, loadFeatures, loadHistory, loadLabels } from './store.ts';

/** A repository needs this much history before its own model replaces the default one. */
export const minChangesForOwnModel = 500;
export const minDefectsForOwnModel = 30;

/** Days between the end of training and the start of testing in `flowgate model eval`. */
export const defaultGapDays = 30;

/**
 * Every change with features as a learner row: its label as eventually known, when that became
 * known (the earliest fix), and its effort (lines added + deleted), oldest first.
 */
export async function loadFeatureRows(store: Store, repoId: number): Promise<FeatureRow[]> {
  const changes = await store.db
    .selectFrom('changes')
    .select(['id', 'sha', 'commit_time', 'lines_added', 'lines_deleted'])
    .where('repo_id', '=', repoId)
    .orderBy('position')
    .execute();
  const features = await loadFeatures(store.db, repoId);
  const knownAt = new Map<number, number>();
  for (const label of await loadLabels(store.db, repoId)) {
    const before = knownAt.get(label.inducingChangeId);
    if (before === undefined || label.knownAt < before) knownAt.set(label.inducingChangeId, label.knownAt);
  }
  return changes.flatMap((c) => {
    const f = features.get(c.id);
    if (f === undefined) return [];
    const fixKnownAt = knownAt.get(c.id) ?? null;
    return [{ id: c.sha, time: c.commit_time, label: fixKnownAt === null ? 0 : 1, fixKnownAt, churn: c.lines_added + c.lines_deleted, features: f }];
  });
}

/** What training did: whether the repository got its own model, and on how much. */
export interface TrainSummary {
  model: 'repository' | 'default';
  reason: string;
  rows: number;
  positives: number;
  cutoff: number;
  modelId: number | null;
  validationAuc: number | null;
}

/**
 * Trains the repository's model on all its history, with labels as known at the latest change
 * (a defect whose fix has not landed yet counts as clean), and stores it in `models`. With too
 * little history nothing is stored and scoring falls back to the default model.
 */
export async function trainRepositoryModel(store: Store, repoId: number, now = Math.floor(Date.now() / 1000)): Promise<TrainSummary> {
  const rows = await loadFeatureRows(store, repoId);
  const cutoff = rows[rows.length - 1]?.time ?? 0;
  const train = asKnownAt(rows, cutoff);
  const positives = train.reduce((n, r) => n + r.label, 0);
  const base = { rows: train.length, positives, cutoff };
  if (train.length < minChangesForOwnModel || positives < minDefectsForOwnModel) {
    return { ...base, model: 'default', reason: `${train.length} changes, ${positives} defect-inducing: the repository's own model needs ${minChangesForOwnModel} and ${minDefectsForOwnModel}`, modelId: null, validationAuc: null };
  }
  const model = fitRiskModel(train);
  const inserted = await store.db
    .insertInto('models')
    .values({
      repo_id: repoId,
      trained_at: now,
      cutoff,
      model: serializeModel(model),
      metrics: JSON.stringify({ training: model.training, validation: model.validation }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  // Older models are kept out of the way: only the latest is ever read.
  await store.db.deleteFrom('models').where('repo_id', '=', repoId).where('id', '<', inserted.id).execute();
  return { ...base, model: 'repository', reason: 'trained on the repository history', modelId: inserted.id, validationAuc: validationAuc(model) };
}

/** Retrain when the history has grown by this many days past the stored model's cutoff (McIntosh & Kamei: at most 3 months). */
export const retrainAfterDays = 30;

/** Trains when no model is stored yet or the history has moved `retrainAfterDays` past its cutoff; otherwise does nothing. */
export async function retrainIfDue(store: Store, repoId: number): Promise<TrainSummary | { model: 'unchanged'; cutoff: number }> {
  const stored = await store.db.selectFrom('models').select('cutoff').where('repo_id', '=', repoId).orderBy('id', 'desc').executeTakeFirst();
  const latest = await store.db.selectFrom('changes').select((eb) => eb.fn.max('commit_time').as('t')).where('repo_id', '=', repoId).executeTakeFirst();
  // SQLite hands back a number, PostgreSQL's max() of a bigint a number too (see dialect.ts); null when empty.
  const newest = latest?.t ?? 0;
  if (stored !== undefined && newest < stored.cutoff + retrainAfterDays * 86_400) return { model: 'unchanged', cutoff: stored.cutoff };
  return trainRepositoryModel(store, repoId);
}

/** The held-out AUC the learner reports for the kept model (its report's shape is the learner's). */
function validationAuc(model: RiskModel): number | null {
  const auc: unknown = (model.validation as { auc?: unknown }).auc;
  if (typeof auc === 'number') return auc;
  const blend = (auc as { blend?: unknown } | undefined)?.blend;
  return typeof blend === 'number' ? blend : null;
}

/** The model that scores a repository's changes: its latest own model, else the shipped default. */
export type CurrentModel = { source: 'repository'; model: RiskModel; modelId: number; trainedAt: number } | { source: 'default'; model: null; modelId: null; trainedAt: null };

/** Deserialized models by connection and repository, reused while the latest model id is the same. */
const models = new WeakMap<object, Map<number, CurrentModel & { source: 'repository' }>>();

/** The repository's latest stored model, or the default one when it has none (deserialized once per model id and connection). */
export async function currentModel(store: Store | Kysely<Database>, repoId: number): Promise<CurrentModel> {
  const db = dbOf(store);
  const latest = await db.selectFrom('models').select(['id', 'trained_at']).where('repo_id', '=', repoId).orderBy('id', 'desc').limit(1).executeTakeFirst();
  if (latest === undefined) return { source: 'default', model: null, modelId: null, trainedAt: null };
  const cached = models.get(db)?.get(repoId);
  if (cached?.modelId === latest.id) return cached;
  const row = await db.selectFrom('models').select('model').where('id', '=', latest.id).executeTakeFirst();
  // Deleted between the two reads (a retrain replaced it): read again.
  if (row === undefined) return currentModel(db, repoId);
  const current = { source: 'repository' as const, model: deserializeModel(row.model), modelId: latest.id, trainedAt: latest.trained_at };
  const perRepo = models.get(db) ?? new Map<number, CurrentModel & { source: 'repository' }>();
  perRepo.set(repoId, current);
  models.set(db, perRepo);
  return current;
}


/** The shipped default model's score and contributions (see default-model.ts). */
function scoreWithDefault(features: Record<string, number>): { margin: number; probability: number; contributions: Contribution[] } {
  const spec = { base: defaultModel.names, derived: [] };
  const x = featureVector(spec, features);
  const margin = logisticMargin(defaultModel.logistic, x);
  const parts = logisticContributions(defaultModel.logistic, x);
  const contributions = defaultModel.names
    .map((feature, j) => ({ feature, value: x[j] ?? 0, contribution: parts[j] ?? 0 }))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.feature.localeCompare(b.feature));
  return { margin, probability: calibrate(defaultModel.calibrator, margin), contributions };
}

/** A change's risk with its explanation. */
export interface ChangeRisk {
  /** Calibrated probability that the change is defect-inducing. */
  probability: number;
  /** Log-odds, for ranking. */
  margin: number;
  source: 'repository' | 'default';
  modelId: number | null;
  /** Per-input contributions to the log-odds, largest magnitude first. */
  contributions: Contribution[];
}

/** Scores one change's features (as computed by features/compute.ts) with the repository's current model. */
export async function scoreChange(store: Store | Kysely<Database>, repoId: number, features: Record<string, number>): Promise<ChangeRisk> {
  const current = await currentModel(store, repoId);
  if (current.model === null) return { ...scoreWithDefault(features), source: 'default', modelId: null };
  const score = predictRisk(current.model, { features });
  return { ...score, source: current.source, modelId: current.modelId, contributions: explainRisk(current.model, { features }) };
}

export type { ProposedChange } from './proposed.ts';

/**
 * Features of a change that is not stored yet (a pull request), as if it landed after the stored
 * mainline: the feature pass over only the stored changes they depend on (proposed.ts), equal to
 * the pass over the whole history. Takes a Store or its `db` (a transaction serves).
 */
export async function featuresForChange(store: Store | Kysely<Database>, repoId: number, change: ProposedChange): Promise<ChangeFeatures> {
  return proposedChangeFeatures(dbOf(store), repoId, change);
}

/** Reads ahead what featuresForChange needs of the history, e.g. while git diffs the change: what any change needs, and with `files` what those select. */
export async function prepareFeaturesForChange(store: Store | Kysely<Database>, repoId: number, files?: ProposedPaths): Promise<void> {
  await prepareProposedFeatures(dbOf(store), repoId, files);
}

/** The reference for featuresForChange: the feature pass over the whole stored history, then the change (seconds on a large history). */
export async function featuresForChangeByFullPass(store: Store | Kysely<Database>, repoId: number, change: ProposedChange): Promise<ChangeFeatures> {
  const db = dbOf(store);
  const history = await loadHistory(db, repoId);
  const knowledge = await loadKnowledge(db, repoId, history);
  const position = history.changes.length === 0 ? 0 : (history.changes[history.changes.length - 1]?.position ?? 0) + 1;
  const fixes = new Set(knowledge.fixes);
  const reverts = new Set(knowledge.reverts);
  if (change.isFix === true || change.isRevert === true) fixes.add(position);
  if (change.isRevert === true) reverts.add(position);
  const all = [...history.changes, { ...change, position }];
  const features = computeFeatures(all, { ...knowledge, fixes, reverts }, (p) => p === position);
  return features.get(position) ?? {};
}

/** Stored features of one change, for the gate and reports; NOT_FOUND when it has none yet. */
export async function changeFeatures(store: Store, changeId: number): Promise<Record<string, number>> {
  const row = await store.db.selectFrom('change_features').select('features').where('change_id', '=', changeId).executeTakeFirst();
  if (row === undefined) throw new FlowgateError('NOT_FOUND', `Change ${changeId} has no features yet: run \`flowgate analyze\` first.`);
  return JSON.parse(row.features) as Record<string, number>;
}

/** Feature sets compared by `flowgate model eval`: Kamei's fourteen alone, and everything. */
export const kameiOnly = ['ns', 'nd', 'nf', 'entropy', 'la', 'ld', 'lt', 'fix', 'ndev', 'age', 'nuc', 'exp', 'rexp', 'sexp'];

/**
 * The chronological evaluation of a repository's model (and baselines) on its stored history; with
 * `rolling`, also the model as it runs: retrained every `retrainMonths` (labels as known at each
 * cutoff, the same gap before each window), windows over the later half of the history.
 */
export async function evaluateRepository(
  store: Store,
  repoId: number,
  options: EvaluationOptions & { features?: 'all' | 'kamei'; rolling?: Omit<RollingOptions, 'gapDays' | 'model'> } = {},
): Promise<ChronologicalResult & { rows: number; positives: number; rolling?: RollingResult }> {
  let rows = await loadFeatureRows(store, repoId);
  if (options.features === 'kamei') rows = rows.map((r) => ({ ...r, features: Object.fromEntries(kameiOnly.map((k) => [k, r.features[k] ?? 0])) }));
  const positives = rows.reduce((n, r) => n + r.label, 0);
  if (rows.length < 100 || positives < 10) {
    throw new FlowgateError('INSUFFICIENT_DATA', `The repository has ${rows.length} changes with features, ${positives} of them defect-inducing: an evaluation needs at least 100 and 10. Run \`flowgate analyze\` on a longer history.`);
  }
  const { rolling, ...chronological } = options;
  const gapDays = options.gapDays ?? defaultGapDays;
  const result = evaluateChronological(rows, { ...chronological, gapDays });
  if (rolling === undefined) return { ...result, rows: rows.length, positives };
  return { ...result, rows: rows.length, positives, rolling: evaluateRolling(rows, { startShare: 0.5, ...rolling, gapDays, ...(options.model === undefined ? {} : { model: options.model }) }) };
}
