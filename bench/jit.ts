import { pathToFileURL } from 'node:url';
import { exitStatusByCode, isFlowgateError } from '../src/core/errors.ts';
import { describeComparison, evaluateChronological, evaluateRolling, type ChronologicalResult, type RollingResult, type ScorerResult } from '../src/analyses/risk/evaluate.ts';
import { loadJitCsv } from '../src/analyses/risk/jit-csv.ts';
import { formatRolling } from '../src/outputs/cli/rolling-table.ts';
import type { BenchResult } from './types.ts';

/**
 * `npm run bench:jit -- <csv>... [--json] [--rolling[=months]]`: the change-risk model on a public
 * JIT dataset (ISSTA 2021 format), chronological 80/20 split, fit on the first 80% only, beside
 * LA-only, 1/churn and logistic regression measured in the same run. `--rolling` adds the model as
 * it runs: retrained every few months (3 by default) on all changes before, each window over the
 * later half of the history scored by the model trained before it.
 */

const fmt = (x: number | null, digits = 3): string => (x === null || Number.isNaN(x) ? '-' : x.toFixed(digits));
const pct = (x: number): string => (Number.isNaN(x) ? '-' : `${(x * 100).toFixed(1)}%`);

function rowsOf(r: ChronologicalResult): ScorerResult[] {
  return [r.model, r.components.logistic, r.components.gbdt, r.baselines.logistic, r.baselines.laOnly, r.baselines.inverseChurn];
}

/** The human-readable table for one dataset. */
export function formatResult(name: string, r: ChronologicalResult): string {
  const out: string[] = [];
  out.push(`${name}: train ${r.train.rows} changes (${pct(r.train.positives / r.train.rows)} defect-inducing), test ${r.test.rows} (${pct(r.test.positives / r.test.rows)}); fit ${(r.fitMilliseconds / 1000).toFixed(1)} s`);
  const v = r.validation;
  // Every choice (shape, blend weight, half-life, boosting rounds, plain-regression weight,
  // calibration) is made on these slices of the training period; the test rows are only scored.
  const slices = v.folds === undefined ? '' : ` in ${v.folds.length} rolling slices (${v.folds.map((f) => `${f.rows} after ${f.fitRows}: ${fmt(f.auc)}`).join(', ')})`;
  out.push(`  model: ${r.chosen}; chosen on the latest ${v.rows} training changes${slices}, mean validation AUC ${fmt(v.auc)}; test rows only scored`);
  for (const m of v.members) {
    const a = m.auc;
    out.push(`    half-life ${m.halfLifeMonths === null ? 'none' : `${m.halfLifeMonths} mo`}: logistic ${fmt(a.logistic)}, trees ${fmt(a.gbdt)} (${m.gbdtRounds} rounds), blend ${fmt(a.blend)}, boosted-logistic ${fmt(a.boostedLogistic)} -> ${m.shape}`);
  }
  if (v.plainLogistic !== undefined) {
    const p = v.plainLogistic;
    out.push(`    plain logistic (base features) ${fmt(p.auc)}; stacked at weight ${p.tried.map((t) => `${t.weight}: ${fmt(t.auc)}`).join(', ')} -> ${p.weight}`);
  }
  out.push(`  ${'scorer'.padEnd(26)}${'AUC'.padStart(7)}${'R@20%E'.padStart(8)}${'E@20%R'.padStart(8)}${'Popt'.padStart(7)}${'Brier'.padStart(7)}${'ECE'.padStart(7)}   escape / in-lane defect rate at auto 30% | 50% | 70%`);
  for (const s of rowsOf(r)) {
    const lanes = s.lanes === null ? '-' : s.lanes.map((l) => `${pct(l.escapeRate).padStart(6)} / ${pct(l.defectRateInLane).padStart(6)}`).join(' | ');
    out.push(`  ${s.name.padEnd(26)}${fmt(s.auc).padStart(7)}${fmt(s.recallAt20Effort).padStart(8)}${fmt(s.effortAt20Recall).padStart(8)}${fmt(s.popt).padStart(7)}${fmt(s.brier).padStart(7)}${fmt(s.ece).padStart(7)}   ${lanes}`);
  }
  const m = r.model;
  const la = r.baselines.laOnly;
  const lr = r.baselines.logistic;
  const escape = (s: ScorerResult): number => s.lanes?.find((l) => l.autoShare === 0.5)?.escapeRate ?? Number.NaN;
  out.push(`  AUC gaps (DeLong, paired on the test rows): model - logistic regression ${describeComparison(r.versus.logistic)}; model - LA-only ${describeComparison(r.versus.laOnly)}`);
  out.push(`  targets: AUC ${fmt(m.auc)} >= LA-only ${fmt(la.auc)} + .01: ${m.auc >= la.auc + 0.01 ? 'yes' : 'NO'}; >= logistic ${fmt(lr.auc)}: ${m.auc >= lr.auc ? 'yes' : 'NO'}; escape at 50% auto ${pct(escape(m))} < LA-only ${pct(escape(la))}: ${escape(m) < escape(la) ? 'yes' : 'NO'}`);
  return out.join('\n');
}

const indent = (text: string): string => text.replace(/^/gm, '  ');

/** Runs the evaluation on each dataset (for `npm run bench` too, with FLOWGATE_BENCH_JIT paths). */
export async function run(paths: string[] = (process.env.FLOWGATE_BENCH_JIT ?? '').split(':').filter((p) => p !== '')): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const path of paths) {
    const r = evaluateChronological(loadJitCsv(path));
    results.push({ name: `jit AUC ${path.split('/').pop() ?? path}`, value: r.model.auc, unit: 'AUC', reference: { name: 'LA-only', value: r.baselines.laOnly.auc }, goal: '>= LA-only + .01' });
  }
  return Promise.resolve(results);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const rollingArg = args.find((a) => a === '--rolling' || a.startsWith('--rolling='));
  const months = rollingArg === undefined ? null : Number(rollingArg.split('=')[1] ?? 3);
  if (months !== null && !(months > 0)) {
    console.error(`--rolling takes a number of months between retrainings, e.g. --rolling=3 (got ${rollingArg ?? ''})`);
    process.exitCode = 64;
    return;
  }
  const paths = args.filter((a) => !a.startsWith('--'));
  if (paths.length === 0) {
    console.error('usage: npm run bench:jit -- <dataset.csv>... [--json] [--rolling[=months]]   (e.g. /work/shared/data/jit/qt_k_feature.csv)');
    process.exitCode = 64;
    return;
  }
  const all: Record<string, ChronologicalResult & { rolling?: RollingResult }> = {};
  for (const path of paths) {
    const rows = loadJitCsv(path);
    const result = evaluateChronological(rows);
    const rolling = months === null ? undefined : evaluateRolling(rows, { retrainMonths: months, startShare: 0.5 });
    all[path] = rolling === undefined ? result : { ...result, rolling };
    if (!json) console.log(`${formatResult(path, result)}${rolling === undefined ? '' : `\n${indent(formatRolling(rolling))}`}\n`);
  }
  if (json) console.log(JSON.stringify(all, null, 2));
  await Promise.resolve();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(isFlowgateError(error) ? `${error.code}: ${error.message}` : error);
    process.exitCode = isFlowgateError(error) ? exitStatusByCode[error.code] : 1;
  });
}
