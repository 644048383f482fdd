import type { AnalysisStep } from '../steps.ts';
import { retrainIfDue } from './model.ts';
import { writeReplayIndex } from './proposed.ts';
import { runLabels } from './run.ts';

/** Fixes, SZZ labels, features and the model, after mining: incremental and idempotent. */
export const labelsStep: AnalysisStep = {
  name: 'labels',
  run: async (context) => {
    const summary = await runLabels(context.store, context.repoId, context.repoPath, { config: context.config.labels, progress: (label, done, total) => context.progress(label, done, total) });
    const model = await retrainIfDue(context.store, context.repoId);
    return { ...summary, model };
  },
};

/** The replay index of the gate's proposed-change features (proposed.ts), kept in the store for checks in new processes. */
export const replayIndexStep: AnalysisStep = {
  name: 'replay-index',
  run: async (context) => writeReplayIndex(context.store.db, context.repoId),
};
