/**
 * `npx tsx src/analyses/risk/__fixtures__/training-slices.ts <jit.csv>`: inside the TRAINING pool of
 * the 80/20 split only (the test rows are dropped unread), five consecutive slices of 10% of it,
 * each scored by the model and the plain logistic regression fit on every change before it
 * (docs/risk-model.md, "The model as it runs").
 */
import { evaluateChronological } from '../evaluate.ts';
import { loadJitCsv } from '../jit-csv.ts';

const rows = loadJitCsv(process.argv[2] ?? '').sort((a, b) => a.time - b.time);
const pool = rows.slice(0, Math.floor(rows.length * 0.8));
for (const origin of [0.5, 0.6, 0.7, 0.8, 0.9]) {
  const subset = pool.slice(0, Math.floor(pool.length * (origin + 0.1)));
  const r = evaluateChronological(subset, { testShare: 1 - origin / (origin + 0.1) });
  const gap = r.model.auc - r.baselines.logistic.auc;
  console.log(`slice after ${origin * 100}% of the pool: ${r.test.rows} changes, model ${r.model.auc.toFixed(4)}, logistic regression ${r.baselines.logistic.auc.toFixed(4)}, model - regression ${gap >= 0 ? '+' : ''}${gap.toFixed(4)}`);
}
