import type { Bench, BenchResult } from './types.ts';

/**
 * `npm run bench [name...]`: runs each benchmark and prints its figures with ratios against a
 * reference measured in the same run. Repositories come from FLOWGATE_BENCH_REPO (a path), else the
 * benches build or fetch what they need and say so.
 */
const benches: Record<string, () => Promise<{ run: Bench }>> = {
  gate: () => import('./gate.ts'),
  jit: () => import('./jit.ts'),
  labels: () => import('./labels.ts'),
  miner: () => import('./miner.ts'),
  report: () => import('./report.ts'),
  routing: () => import('./routing.ts'),
  webhooks: () => import('./webhooks.ts'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const json = process.argv.includes('--json');
const all: BenchResult[] = [];
for (const [name, load] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const { run } = await load();
  const results = await run();
  all.push(...results);
  if (json) continue;
  for (const r of results) {
    const ratio = r.reference === undefined || r.reference.value === 0 ? '' : `  (${(r.value / r.reference.value).toFixed(2)}x ${r.reference.name}: ${r.reference.value.toFixed(2)} ${r.unit})`;
    const goal = r.goal === undefined ? '' : `  goal ${r.goal}`;
    console.log(`${name.padEnd(9)} ${r.name.padEnd(44)} ${r.value.toFixed(2).padStart(10)} ${r.unit}${ratio}${goal}`);
    if (r.notes !== undefined) console.log(`          ${r.notes}`);
  }
}
if (json) console.log(JSON.stringify(all, null, 2));
