import type { FlowgateConfig } from '../core/config.ts';
import type { Store } from '../store/store.ts';
import { labelsStep, replayIndexStep } from './labels/step.ts';

/** What an analysis step gets after mining: the store, the repository and its config. */
export interface AnalysisContext {
  store: Store;
  repoId: number;
  repoPath: string;
  config: FlowgateConfig;
  /** Reports progress (shown on a terminal, silent in CI): done out of total, with a label. */
  progress(label: string, done: number, total: number): void;
}

/** One analysis that runs after mining, in order; each must be incremental and idempotent. */
export interface AnalysisStep {
  name: string;
  run(context: AnalysisContext): Promise<Record<string, unknown>>;
}

/** The steps `flowgate analyze` runs after mining. */
export const analysisSteps: AnalysisStep[] = [labelsStep, replayIndexStep];
