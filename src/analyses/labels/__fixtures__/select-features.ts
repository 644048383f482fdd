/**
 * Feature and learner selection on the TRAINING period only:
 * `npx tsx .../select-features.ts <db|jit.csv> [set...] [--config=<name>]` (a key of `configs`
 * below: auto, average, fixed and the learner candidates of docs/risk-model.md; `--seed=<n>` overrides
 * the learner's seed), where a set is
 * `base` (every feature) or `-name,name` (every feature but those).
 * Takes the rows `flowgate model eval` would train on (all before the test share and gap), splits
 * them again in time (latest 20% after a 30-day gap as validation) and reports, per feature set,
 * the model's validation AUC beside LA-only. The test changes are dropped unused. To try a new
 * feature, add it to features/compute.ts and compare `base` with `-<its name>`.
 */
import { openStore } from '../../../store/store.ts';
import { computeFeatures } from '../../features/compute.ts';
import { evaluateChronological } from '../../risk/evaluate.ts';
import { loadJitCsv } from '../../risk/jit-csv.ts';
import type { RiskModelOptions } from '../../risk/learner.ts';
import type { FeatureRow } from '../../risk/types.ts';
import { defaultGapDays } from '../model.ts';
import { loadKnowledge } from '../run.ts';
import { loadHistory, loadLabels } from '../store.ts';

/** The change's size and spread: the inputs of the `monotone` candidate (docs/risk-model.md, session 5). */
const sizeFeatures = ['la', 'ld', 'la_code', 'ld_code', 'nf', 'entropy', 'churn'];

/** Counters that only grow as a project ages: the inputs of the session-6 `linear-*` candidates (docs/risk-model.md). */
const ageingCounters = ['lt', 'lt_code', 'ndev', 'age', 'nuc', 'exp', 'sexp', 'prior_fixes', 'prior_bugs', 'dir_changes', 'dir_fixes', 'dir_bugs', 'author_bugs', 'lt/nf', 'nuc/nf', 'ndev/nf'];

const configs: Record<string, RiskModelOptions> = {
  auto: { combine: 'auto' },
  average: { combine: 'average' },
  fixed: { combine: 'average', blendWeights: [0.5], boostedLogistic: false },
  // Candidates of 2026-11-21 (session 3), each one change to `average` (docs/risk-model.md).
  seeds: { combine: 'average', memberSeeds: true },
  bag3: { combine: 'average', gbdt: { bags: 3 } },
  regularized: { combine: 'average', gbdt: { minChildSamples: 100, l2: 10, colsample: 0.5 } },
  delong: { combine: 'average', plainWeightRule: 'delong' },
  'stack-lr': { combine: 'average', plainWeightRule: 'likelihood' },
  shrink: { combine: 'average', gbdt: { learningRate: 0.025, rounds: 1600, patience: 120 } },
  depth2: { combine: 'average', gbdt: { maxDepth: 2 } },
  // Candidates of session 5, declared with their rule before they ran (docs/risk-model.md); run with --seed=1 and --seed=2.
  monotone: { combine: 'average', monotoneFeatures: sizeFeatures },
  'refit-rounds': { combine: 'average', refitRounds: 'scaled' },
  'monotone+refit-rounds': { combine: 'average', monotoneFeatures: sizeFeatures, refitRounds: 'scaled' },
  spline: { combine: 'average', splineKnots: 4 },
  // Session 5, third round: the best of the exploration below, confirmed on seeds 2 and 3.
  depth4: { combine: 'average', gbdt: { maxDepth: 4 } },
  // Session 5 exploration (seed 1 only, validation splits only); anything promising is declared and confirmed on seeds 2 and 3.
  'explore-depth4': { combine: 'average', gbdt: { maxDepth: 4 } },
  'explore-bins255': { combine: 'average', gbdt: { maxBins: 255 } },
  'explore-leaf20': { combine: 'average', gbdt: { minChildSamples: 20 } },
  'explore-halflives6': { combine: 'average', halfLifeMonths: [null, 3, 6, 12, 24, 48] },
  'explore-lr-l2-10': { combine: 'average', logistic: { l2: 10 } },
  // Session 6 exploration (seed 1, validation splits only): trees that never split on the ageing counters.
  'explore-linear-counters': { combine: 'average', linearOnlyFeatures: ageingCounters },
  'explore-linear-experience': { combine: 'average', linearOnlyFeatures: ['exp', 'sexp', 'author_bugs'] },
  'explore-linear-counters-depth4': { combine: 'average', linearOnlyFeatures: ageingCounters, gbdt: { maxDepth: 4 } },
  // The default with other seeds: how much the validation AUC moves by chance alone.
  'average-seed2': { combine: 'average', seed: 2 },
  'average-seed3': { combine: 'average', seed: 3 },
  // After the decision, not part of it: does shrink's gain survive another seed?
  'shrink-seed2': { combine: 'average', seed: 2, gbdt: { learningRate: 0.025, rounds: 1600, patience: 120 } },
};
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const config = process.argv.find((a) => a.startsWith('--config='))?.slice('--config='.length) ?? 'auto';
const seedArg = process.argv.find((a) => a.startsWith('--seed='))?.slice('--seed='.length);
const source = args[0] ?? '';
const rows = source.endsWith('.csv') ? loadJitCsv(source) : await loadRows(source);

async function loadRows(url: string): Promise<FeatureRow[]> {
  const store = await openStore({ url });
  const repo = await store.db.selectFrom('repositories').select('id').executeTakeFirstOrThrow();
  const history = await loadHistory(store.db, repo.id);
  const knowledge = await loadKnowledge(store, repo.id, history);
  const features = computeFeatures(history.changes, knowledge);
  const knownAt = new Map<number, number>();
  for (const l of await loadLabels(store.db, repo.id)) knownAt.set(l.inducingChangeId, Math.min(knownAt.get(l.inducingChangeId) ?? Infinity, l.knownAt));
  await store.close();
  return history.changes.map((c) => {
    const fixKnownAt = knownAt.get(c.id) ?? null;
    return { id: c.sha, time: c.time, label: fixKnownAt === null ? 0 : 1, fixKnownAt, churn: c.linesAdded + c.linesDeleted, features: features.get(c.position) ?? {} };
  });
}
rows.sort((a, b) => a.time - b.time);
// Exactly the training pool of the default evaluation (testShare .2, 30-day gap); the rest is never touched.
const split = Math.floor(rows.length * 0.8);
const testStart = rows[split]?.time ?? Infinity;
// The JIT datasets are evaluated without a gap (bench:jit); repositories with the 30-day one.
const gapDays = source.endsWith('.csv') ? 0 : defaultGapDays;
const pool = rows.slice(0, split).filter((r) => r.time < testStart - gapDays * 86_400);
const sets = args.slice(1);
const wanted = sets.length > 0 ? sets : ['base'];
for (const set of wanted) {
  const drop = new Set(set.startsWith('-') ? set.slice(1).split(',') : []);
  const subset = pool.map((r) => ({ ...r, features: Object.fromEntries(Object.entries(r.features).filter(([k]) => !drop.has(k))) }));
  const r = evaluateChronological(subset, { gapDays, model: { ...configs[config], ...(seedArg === undefined ? {} : { seed: Number(seedArg) }) } });
  console.log(
    `${source} ${config} ${set.padEnd(13)} validation: train ${r.train.rows} (${r.train.positives}) val ${r.test.rows} (${r.test.positives}) model AUC ${r.model.auc.toFixed(4)} logistic ${r.baselines.logistic.auc.toFixed(4)} (inner validation ${r.validation.auc.toFixed(4)}) LA-only ${r.baselines.laOnly.auc.toFixed(3)} popt ${r.model.popt.toFixed(3)} fit ${(r.fitMilliseconds / 1000).toFixed(1)} s plain weight ${r.validation.plainLogistic?.weight.toFixed(3) ?? '-'} ${r.chosen}`,
  );
}
