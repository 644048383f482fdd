import { defaultCensorDays, describeComparison, type RollingResult } from '../../analyses/risk/evaluate.ts';
import { formatTable } from './shared.ts';

const fmt = (x: number): string | null => (Number.isNaN(x) ? null : x.toFixed(3));
const signed = (x: number): string | null => (Number.isNaN(x) ? null : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);
const date = (t: number): string => new Date(t * 1000).toISOString().slice(0, 10);

/** The rolling evaluation as text: one row per retraining window, then the means over the windows. */
export function formatRolling(r: RollingResult): string {
  // Windows with one class (no AUC) are listed but not averaged, as in the comparison.
  const scored = r.windows.filter((w) => !Number.isNaN(w.modelAuc));
  const mean = (pick: (w: RollingResult['windows'][number]) => number): number => scored.reduce((sum, w) => sum + pick(w), 0) / scored.length;
  const table = formatTable(
    ['test window', 'changes', 'defect-inducing', 'model', 'logistic regression', 'LA-only', 'model - regression'],
    r.windows.map((w) => [
      `${date(w.test.from)} to ${date(w.test.to)}${w.censored ? ' *' : ''}`,
      w.test.rows,
      `${((100 * w.test.positives) / Math.max(w.test.rows, 1)).toFixed(1)}%`,
      fmt(w.modelAuc),
      fmt(w.logisticAuc),
      fmt(w.laOnlyAuc),
      signed(w.modelAuc - w.logisticAuc),
    ]),
  );
  return [
    `rolling: retrained every ${r.retrainMonths} months on every change before (labels as known then), each window scored by the model trained before it`,
    table,
    `* ends within ${defaultCensorDays} days of the data's end: many of its defects have no fix (no label) yet`,
    `mean of ${scored.length} windows with both classes: model ${fmt(mean((w) => w.modelAuc)) ?? '-'}, logistic regression ${fmt(mean((w) => w.logisticAuc)) ?? '-'}, LA-only ${fmt(mean((w) => w.laOnlyAuc)) ?? '-'}`,
    `AUC gaps (DeLong per window, averaged): model - logistic regression ${describeComparison(r.versus.logistic)}; model - LA-only ${describeComparison(r.versus.laOnly)}`,
  ].join('\n');
}
