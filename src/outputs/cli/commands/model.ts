import type { Command } from 'commander';
import { evaluateRepository, trainRepositoryModel } from '../../../analyses/labels/model.ts';
import { runLabels } from '../../../analyses/labels/run.ts';
import { describeComparison, type ScorerResult } from '../../../analyses/risk/evaluate.ts';
import { readConfigAt } from '../../../core/config.ts';
import { FlowgateError } from '../../../core/errors.ts';
import { repositoryKey } from '../../../sources/git/miner.ts';
import { getRepository } from '../../../store/repositories.ts';
import { createProgress } from '../progress.ts';
import { formatRolling } from '../rolling-table.ts';
import { formatTable, printJson, resolvePathArg, withDbOption, withStore } from '../shared.ts';

interface EvalFlags {
  db?: string;
  json?: boolean;
  gapDays: string;
  testShare: string;
  features: string;
  rolling?: string;
}

interface TrainFlags {
  db?: string;
  json?: boolean;
  relabel?: boolean;
}

const fmt = (x: number | null): string | null => (x === null || Number.isNaN(x) ? null : x.toFixed(3));
const pct = (x: number): string => (Number.isNaN(x) ? '-' : `${(x * 100).toFixed(1)}%`);
const date = (t: number): string => new Date(t * 1000).toISOString().slice(0, 10);

function numberFlag(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new FlowgateError('USAGE', `${flag} expects a number from ${min} to ${max}, got "${value}".`);
  return n;
}

/** Registers `flowgate model eval` and `flowgate model train` (issue 3). */
export function registerModel(program: Command): void {
  const model = program.command('model').description('the per-repository change-risk model: train it, judge it on the future');

  withDbOption(
    model
      .command('eval')
      .description('chronological evaluation: train on the past (labels as known then), skip a gap, test on the latest changes; beside LA-only and 1/churn')
      .argument('[path]', 'repository path', '.')
      .option('--gap-days <n>', 'days left out between training and testing (verification latency)', '30')
      .option('--test-share <x>', 'share of the latest changes used as the test set', '0.2')
      .option('--features <set>', 'all (flowgate features) or kamei (the fourteen only)', 'all')
      .option('--rolling <months>', 'also retrain every <months> over the later half of the history and score each window with the model before it')
      .option('--json', 'print the full evaluation as JSON'),
  ).action(async (path: string, flags: EvalFlags) => {
    const gapDays = numberFlag(flags.gapDays, '--gap-days', 0, 3650);
    const testShare = numberFlag(flags.testShare, '--test-share', 0.01, 0.9);
    if (flags.features !== 'all' && flags.features !== 'kamei') throw new FlowgateError('USAGE', `--features expects all or kamei, got "${flags.features}".`);
    const features = flags.features;
    const months = flags.rolling === undefined ? null : numberFlag(flags.rolling, '--rolling', 0.25, 60);
    const { key } = await repositoryKey(resolvePathArg(path));
    await withStore(flags.db, async (store) => {
      const repo = await getRepository(store.db, key);
      const progress = createProgress(flags.json === true);
      const rolling = months === null ? {} : { rolling: { retrainMonths: months, progress: (done: number, total: number) => progress.update('retraining window by window', done, total) } };
      const result = await evaluateRepository(store, repo.id, { gapDays, testShare, features, ...rolling });
      progress.stop();
      if (flags.json === true) {
        printJson({ repository: key, features, ...result });
        return;
      }
      const scorers: ScorerResult[] = [result.model, result.components.logistic, result.components.gbdt, result.baselines.logistic, result.baselines.laOnly, result.baselines.inverseChurn];
      const lines = [
        `${key}: ${result.rows} changes, ${result.positives} defect-inducing (${pct(result.positives / result.rows)}); features: ${features}`,
        `train: ${result.train.rows} changes ${date(result.train.from)} to ${date(result.trainCutoff)}, ${result.train.positives} defect-inducing as known then (${result.hiddenByLatency} more not yet fixed)`,
        `test: ${result.test.rows} changes ${date(result.test.from)} to ${date(result.test.to)} after a ${result.gapDays}-day gap, ${result.test.positives} defect-inducing; model: ${result.chosen}`,
        '',
        formatTable(
          ['scorer', 'AUC', 'Recall@20%Effort', 'Effort@20%Recall', 'Popt', 'Brier', 'ECE'],
          scorers.map((s) => [s.name, fmt(s.auc), fmt(s.recallAt20Effort), fmt(s.effortAt20Recall), fmt(s.popt), fmt(s.brier), fmt(s.ece)]),
        ),
        `AUC gaps (DeLong, paired on the test changes): model - logistic regression ${describeComparison(result.versus.logistic)}; model - LA-only ${describeComparison(result.versus.laOnly)}`,
        '',
        'auto lane: the lowest-risk share merges without review; escaped = share of all defect-inducing changes that went through it, in lane = its defect rate',
        formatTable(
          ['scorer', ...(result.model.lanes ?? []).map((l) => `auto ${Math.round(l.autoShare * 100)}%: escaped / in lane`)],
          scorers.filter((s) => s.lanes !== null).map((s) => [s.name, ...(s.lanes ?? []).map((l) => `${pct(l.escapeRate)} / ${pct(l.defectRateInLane)}`)]),
        ),
        '',
        `base rate in test: ${pct(result.test.positives / result.test.rows)}`,
        ...(result.rolling === undefined ? [] : ['', formatRolling(result.rolling)]),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  });

  withDbOption(
    model
      .command('train')
      .description('bring fixes, labels and features up to date, then train and store the repository model (the default model stays in use with too little history)')
      .argument('[path]', 'repository path', '.')
      .option('--relabel', 'forget stored fixes and labels first (after changing the labels section of .flowgate.yml)')
      .option('--json', 'print the summary as JSON'),
  ).action(async (path: string, flags: TrainFlags) => {
    const repoPath = resolvePathArg(path);
    const { key } = await repositoryKey(repoPath);
    await withStore(flags.db, async (store) => {
      const repo = await getRepository(store.db, key);
      const config = readConfigAt(repoPath, repo.tip_sha ?? 'HEAD');
      const labels = await runLabels(store, repo.id, repoPath, { config: config.labels, relabel: flags.relabel === true });
      const trained = await trainRepositoryModel(store, repo.id);
      if (flags.json === true) {
        printJson({ repository: key, labels, model: trained });
        return;
      }
      process.stdout.write(
        `${key}: ${labels.changes} changes, ${labels.fixes} fixes, ${labels.defectInducing} defect-inducing changes (${labels.labels} labels)\n` +
          (trained.model === 'repository'
            ? `trained the repository model on ${trained.rows} changes up to ${date(trained.cutoff)} (${trained.positives} defect-inducing as known then); validation AUC ${fmt(trained.validationAuc) ?? '-'}\n`
            : `using the default model: ${trained.reason}\n`),
      );
    });
  });
}
