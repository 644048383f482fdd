/** Quick evaluation of a mined store by hand: npx tsx .../eval-quick.ts <db> [kamei|all] */
import { openStore } from '../../../store/store.ts';
import { evaluateRepository } from '../model.ts';

const store = await openStore({ url: process.argv[2] });
const repo = await store.db.selectFrom('repositories').select('id').executeTakeFirstOrThrow();
const features = process.argv[3] === 'kamei' ? 'kamei' : 'all';
const r = await evaluateRepository(store, repo.id, { features });
const show = (s: { name: string; auc: number; recallAt20Effort: number; effortAt20Recall: number; popt: number }): string => `${s.name.padEnd(24)} auc ${s.auc.toFixed(3)} r20 ${s.recallAt20Effort.toFixed(3)} e20 ${s.effortAt20Recall.toFixed(3)} popt ${s.popt.toFixed(3)}`;
console.log(features, r.rows, r.positives, 'train', r.train.rows, r.train.positives, 'test', r.test.rows, r.test.positives, 'hidden', r.hiddenByLatency, r.chosen);
for (const s of [r.model, r.components.logistic, r.components.gbdt, r.baselines.logistic, r.baselines.laOnly, r.baselines.inverseChurn]) console.log(show(s));
await store.close();
