import type { Kysely } from 'kysely';
import { git } from '../../sources/git/git.ts';
import type { Database } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';
import { computeFeatures, featuresVersion, type FeatureKnowledge } from '../features/compute.ts';
import type { LabelsConfig } from './config.ts';
import { createChangeIndex, createFixDetector, type Fix } from './fixes.ts';
import {
  clearLabels,
  dbOf,
  featureIdsAt,
  insertFixes,
  insertLabels,
  loadFixes,
  loadHistory,
  loadLabels,
  readState,
  upsertFeatures,
  writeState,
  type History,
  type LabelRow,
} from './store.ts';
import type { SzzInput, SzzLabel } from './szz.ts';
import { traceByBlame, traceByStream } from './trace.ts';

/** Below this many new fixes, `auto` traces them one `git blame` each; above, one pass over the history. */
export const blameFixLimit = 40;

/** What one labelling run did. */
export interface LabelsSummary {
  changes: number;
  newFixes: number;
  fixes: number;
  newLabels: number;
  labels: number;
  defectInducing: number;
  szzMethod: 'stream' | 'blame' | 'none';
  szzSeconds: number;
  featuresWritten: number;
  featuresSeconds: number;
}

export interface LabelsRunOptions {
  config: LabelsConfig;
  progress?: (label: string, done: number, total: number) => void;
  /** Forget stored fixes and labels first (after changing the labels config). */
  relabel?: boolean;
}

/**
 * Recognises fixes among the changes not processed yet, traces them back (SZZ) and computes the
 * features of every change that has none. Incremental and idempotent: a second run finds nothing new.
 */
export async function runLabels(store: Store, repoId: number, repoPath: string, options: LabelsRunOptions): Promise<LabelsSummary> {
  const { config } = options;
  const progress = options.progress ?? (() => undefined);
  if (options.relabel === true) await clearLabels(store.db, repoId);
  const history = await loadHistory(store.db, repoId);
  const { changes } = history;
  const done = await readState(store.db, repoId, 'labels');
  const fresh = changes.filter((c) => c.id > done);

  // Fixes.
  const detect = createFixDetector(config);
  const index = createChangeIndex(changes, history.brought);
  const found: { position: number; fix: Fix }[] = [];
  for (const change of fresh) {
    const fix = detect(change, index);
    if (fix !== null) found.push({ position: change.position, fix });
  }
  const at = (position: number): (typeof changes)[number] | undefined => changes[position]?.position === position ? changes[position] : changes.find((c) => c.position === position);
  const idAt = (position: number | null): number | null => (position === null ? null : (at(position)?.id ?? null));
  await insertFixes(
    store.db,
    repoId,
    found.map(({ position, fix }) => ({ changeId: idAt(position) ?? 0, kind: fix.kind, evidence: fix.evidence, revertsChangeId: idAt(fix.reverts) })),
  );

  // Labels: reverts directly, other fixes by SZZ.
  const labels: LabelRow[] = [];
  for (const { position, fix } of found) {
    const change = at(position);
    const reverted = idAt(fix.reverts);
    if (change === undefined || reverted === null) continue;
    labels.push({ inducingChangeId: reverted, fixChangeId: change.id, lines: [], knownAt: change.time, method: 'revert' });
  }
  const toTrace = found.filter(({ fix }) => fix.kind !== 'revert').map(({ position }) => position);
  const started = performance.now();
  let method: LabelsSummary['szzMethod'] = 'none';
  if (toTrace.length > 0 && changes.length > 0) {
    method = config.method === 'auto' ? (toTrace.length > blameFixLimit ? 'stream' : 'blame') : config.method;
    const traced = await trace(repoPath, history, toTrace, config, method, (d, t) => progress('tracing fixes (SZZ)', d, t));
    for (const label of traced) {
      const inducing = at(label.inducing);
      const fix = at(label.fix);
      if (inducing === undefined || fix === undefined) continue;
      labels.push({ inducingChangeId: inducing.id, fixChangeId: fix.id, lines: label.lines, knownAt: fix.time, method: method === 'stream' ? 'szz-stream' : 'szz-blame' });
    }
  }
  const szzSeconds = (performance.now() - started) / 1000;
  await insertLabels(store.db, repoId, labels);
  const last = changes[changes.length - 1];
  if (last !== undefined) await writeState(store.db, repoId, 'labels', changes.reduce((m, c) => Math.max(m, c.id), done));

  // Features, for the changes without a row of the current version.
  const featuresStarted = performance.now();
  const featuresWritten = await writeFeatures(store, repoId, history);
  const featuresSeconds = (performance.now() - featuresStarted) / 1000;

  const allFixes = await loadFixes(store.db, repoId);
  const allLabels = await loadLabels(store.db, repoId);
  return {
    changes: changes.length,
    newFixes: found.length,
    fixes: allFixes.size,
    newLabels: labels.length,
    labels: allLabels.length,
    defectInducing: new Set(allLabels.map((l) => l.inducingChangeId)).size,
    szzMethod: method,
    szzSeconds: Math.round(szzSeconds * 10) / 10,
    featuresWritten,
    featuresSeconds: Math.round(featuresSeconds * 10) / 10,
  };
}

async function trace(repoPath: string, history: History, fixes: number[], config: LabelsConfig, method: 'stream' | 'blame', progress: (done: number, total: number) => void): Promise<SzzLabel[]> {
  const { changes } = history;
  const tip = changes[changes.length - 1]?.sha ?? 'HEAD';
  const ignoreRevs = await readIgnoreRevs(repoPath, tip, config.ignoreRevsFile);
  const positions = new Map(changes.map((c) => [c.sha, c.position]));
  const byPosition = new Map(changes.map((c) => [c.position, c]));
  const ignored = new Set<number>();
  for (const sha of ignoreRevs) {
    const p = positions.get(sha);
    if (p !== undefined) ignored.add(p);
  }
  const input: SzzInput = {
    positions,
    fixes: new Set(fixes),
    ignored,
    filesChanged: (p) => byPosition.get(p)?.files.length ?? 0,
    options: { traceKinds: config.traceKinds, maxFixFiles: config.maxFixFiles, maxInducingFiles: config.maxInducingFiles, pick: config.pick },
  };
  if (method === 'stream') return traceByStream(repoPath, tip, input, progress);
  const list = fixes.map((p) => byPosition.get(p)).filter((c) => c !== undefined).map((c) => ({ position: c.position, sha: c.sha, parent: c.parent }));
  return traceByBlame(repoPath, list, input, ignoreRevs, progress);
}

/** The full shas listed in the ignore-revs file as it is at `tip` (comments and blank lines skipped). */
async function readIgnoreRevs(repoPath: string, tip: string, file: string): Promise<string[]> {
  const text = await git(repoPath, ['show', `${tip}:${file}`], { allowFailure: true });
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => /^[0-9a-f]{40}$/i.test(l))
    .map((l) => l.toLowerCase());
}

/** What was known of fixes and defects, by change position, for the feature pass. */
export async function loadKnowledge(store: Store | Kysely<Database>, repoId: number, history: History): Promise<FeatureKnowledge> {
  const fixes = await loadFixes(dbOf(store), repoId);
  const labels = await loadLabels(dbOf(store), repoId);
  const positionById = new Map(history.changes.map((c) => [c.id, c.position]));
  const fixPositions = new Set<number>();
  const revertPositions = new Set<number>();
  for (const [id, kind] of fixes) {
    const p = positionById.get(id);
    if (p === undefined) continue;
    fixPositions.add(p);
    if (kind === 'revert') revertPositions.add(p);
  }
  return {
    fixes: fixPositions,
    reverts: revertPositions,
    labels: labels.flatMap((l) => {
      const p = positionById.get(l.inducingChangeId);
      return p === undefined ? [] : [{ inducing: p, knownAt: l.knownAt }];
    }),
  };
}

/** Computes features in one pass and writes those missing at the current version; returns how many were written. */
async function writeFeatures(store: Store, repoId: number, history: History): Promise<number> {
  const have = await featureIdsAt(store.db, repoId, featuresVersion);
  const missing = new Set(history.changes.filter((c) => !have.has(c.id)).map((c) => c.position));
  if (missing.size === 0) return 0;
  const knowledge = await loadKnowledge(store, repoId, history);
  const features = computeFeatures(history.changes, knowledge, (p) => missing.has(p));
  const rows = history.changes.flatMap((c) => {
    const f = features.get(c.position);
    return f === undefined ? [] : [{ changeId: c.id, features: f }];
  });
  await upsertFeatures(store.db, repoId, rows, featuresVersion);
  return rows.length;
}
