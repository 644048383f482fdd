import type { AnalysisStep } from '../steps.ts';

/** Fixes, SZZ labels, features and the model, after mining (filled in by the labels module). */
export const labelsStep: AnalysisStep = {
  name: 'labels',
  run: () => Promise.resolve({}),
};
