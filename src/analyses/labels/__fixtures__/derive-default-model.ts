/**
 * Derives the shipped default model (run by hand once; writes src/analyses/labels/default-model.ts):
 * a logistic regression on thirteen Kamei features (REXP left out: the datasets weight recency
 * differently from flowgate), fit on the two public JIT datasets together, Platt-calibrated on them.
 * Usage: npx tsx src/analyses/labels/__fixtures__/derive-default-model.ts /work/shared/data/jit
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fitCalibrator } from '../../risk/calibration.ts';
import { featureColumns, featureVector } from '../../risk/engineer.ts';
import { loadJitCsv } from '../../risk/jit-csv.ts';
import { auc } from '../../risk/metrics.ts';
import { fitLogistic, logisticMargin } from '../../risk/logistic.ts';

const dir = process.argv[2] ?? '/work/shared/data/jit';
const names = ['age', 'entropy', 'exp', 'fix', 'la', 'ld', 'lt', 'nd', 'ndev', 'nf', 'ns', 'nuc', 'sexp'];
const rows = ['qt_k_feature.csv', 'openstack_k_feature.csv'].flatMap((f) => loadJitCsv(join(dir, f)));
const spec = { base: names, derived: [] };
const labels = Uint8Array.from(rows, (r) => r.label);
const logistic = fitLogistic(featureColumns(spec, rows), labels, { l2: 10 });
const margins = rows.map((r) => logisticMargin(logistic, featureVector(spec, r.features)));
const calibrator = fitCalibrator('platt', margins, labels);
const round = (x: number): number => Math.round(x * 1e6) / 1e6;
const model = {
  names,
  logistic: { ...logistic, mean: logistic.mean.map(round), sd: logistic.sd.map(round), coef: logistic.coef.map(round), intercept: round(logistic.intercept) },
  calibrator,
};
const out = `/**
 * The default risk model, for repositories with too little history of their own (fewer than 500
 * changes or 30 known defect-inducing ones). A logistic regression on thirteen Kamei features
 * (signed log, standardised; REXP left out because the datasets weight recency differently),
 * fit once on the public Qt and OpenStack JIT datasets (ISSTA 2021 replication package, MIT
 * licence; ${rows.length} changes) and Platt-calibrated on them. In-sample AUC ${auc(margins, labels).toFixed(3)}.
 * Regenerate with src/analyses/labels/__fixtures__/derive-default-model.ts; nothing reads those
 * datasets at run time.
 */
import type { Calibrator } from '../risk/calibration.ts';
import type { LogisticModel } from '../risk/logistic.ts';

/** The default model: input names (raw feature values), the fitted logistic regression and its calibrator. */
export const defaultModel: { names: string[]; logistic: LogisticModel; calibrator: Calibrator } = ${JSON.stringify(model, null, 2)};
`;
writeFileSync(new URL('../default-model.ts', import.meta.url), out);
console.log(names.map((n, i) => `${n} ${logistic.coef[i]?.toFixed(3)}`).join(', '), 'auc', auc(margins, labels).toFixed(3));
