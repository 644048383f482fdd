/**
 * Cost of a proposed change's features on a real store, and agreement with the full pass:
 *   npx tsx src/analyses/labels/__fixtures__/measure-proposed.ts <db> [samples=50] [runs=5]
 * Each sampled stored change is recomputed as if it were proposed after the whole stored history,
 * once by `featuresForChange` and once by the full pass (`featuresForChangeByFullPass`); any
 * difference is printed and makes the exit status 1. The timed change is the latest stored one.
 */
import { openStore } from '../../../store/store.ts';
import { currentModel, featuresForChange, featuresForChangeByFullPass, scoreChange, type ProposedChange } from '../model.ts';
import { loadFixes } from '../store.ts';
import { storedAsProposed } from './stored-as-proposed.ts';

const [, , url, samplesArg, runsArg] = process.argv;
if (url === undefined) throw new Error('usage: measure-proposed.ts <db> [samples] [runs]');
const samples = Number(samplesArg ?? 50);
const runs = Number(runsArg ?? 5);
const store = await openStore({ url });
const repo = await store.db.selectFrom('repositories').select('id').executeTakeFirstOrThrow();

const proposedOf = (id: number, fixes: Map<number, string>): Promise<ProposedChange> => storedAsProposed(store.db, id, fixes.get(id));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fixes = await loadFixes(store.db, repo.id);
const ids = (await store.db.selectFrom('changes').select('id').where('repo_id', '=', repo.id).orderBy('position').execute()).map((r) => r.id);
const latest = ids[ids.length - 1];
if (latest === undefined) throw new Error('empty store');
const timed = await proposedOf(latest, fixes);

for (const [name, fn] of [
  ['featuresForChange', featuresForChange],
  ['full pass', featuresForChangeByFullPass],
] as const) {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn(store, repo.id, timed);
    ms.push(performance.now() - t);
  }
  console.log(`${name}: median ${median(ms).toFixed(1)} ms of ${runs} (${ms.map((m) => m.toFixed(0)).join(', ')}) for a change of ${timed.files.length} files`);
}
const scoreMs: number[] = [];
const features = await featuresForChange(store, repo.id, timed);
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  await scoreChange(store, repo.id, features);
  scoreMs.push(performance.now() - t);
}
console.log(`scoreChange: median ${median(scoreMs).toFixed(1)} ms of ${runs} (model ${(await currentModel(store, repo.id)).source})`);

if (samples > 0) {
  // Evenly spread over the history, so old and new changes, busy and quiet files are all sampled.
  const sampled = Array.from({ length: samples }, (_, i) => ids[Math.floor(((i + 0.5) * ids.length) / samples)] ?? latest);
  let differing = 0;
  const fastMs: number[] = [];
  for (const id of sampled) {
    const proposed = await proposedOf(id, fixes);
    const t = performance.now();
    const fast = await featuresForChange(store, repo.id, proposed);
    fastMs.push(performance.now() - t);
    if (process.env['FG_SLOW'] !== undefined && performance.now() - t > Number(process.env['FG_SLOW'])) console.log(`change ${id}: ${(performance.now() - t).toFixed(0)} ms, ${proposed.files.length} files`);
    const full = await featuresForChangeByFullPass(store, repo.id, proposed);
    const keys = [...new Set([...Object.keys(fast), ...Object.keys(full)])].sort();
    const diff = keys.filter((k) => fast[k] !== full[k]);
    if (diff.length > 0) {
      differing += 1;
      console.log(`change ${id}: ${diff.map((k) => `${k} ${fast[k]} vs ${full[k]}`).join(', ')}`);
    }
  }
  console.log(`${samples} stored changes recomputed as if proposed: ${samples - differing} identical, ${differing} differ; fast path median ${median(fastMs).toFixed(1)} ms, max ${Math.max(...fastMs).toFixed(1)} ms`);
  if (differing > 0) process.exitCode = 1;
}
await store.close();
