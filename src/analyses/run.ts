import { detectProvenance, signaturesFromConfig } from './provenance/index.ts';
import type { MinedChange, Provenance } from '../changes/change.ts';
import { readConfigAt, type FlowgateConfig } from '../core/config.ts';
import { mineRepository, type MineResult } from '../sources/git/miner.ts';
import type { Store } from '../store/store.ts';
import { analysisSteps } from './steps.ts';

/** The provenance detector for a config: built-in signatures plus the config's own. */
export function provenanceDetector(config: FlowgateConfig): (change: MinedChange) => Provenance {
  const signatures = signaturesFromConfig(config.provenance);
  return (change) => detectProvenance(change, signatures);
}

export interface RunAnalysisOptions {
  branch?: string | undefined;
  /** Skip the analysis steps after mining (labels, features, model). */
  mineOnly?: boolean;
  /** Changes written per transaction. */
  batchSize?: number | undefined;
  progress?: (label: string, done: number, total: number) => void;
}

export interface AnalysisRun {
  mined: MineResult;
  config: FlowgateConfig;
  steps: Record<string, Record<string, unknown>>;
}

/** Mines a repository (config from the mainline tip, never the work tree) and runs every analysis step. */
export async function runAnalysis(store: Store, repoPath: string, options: RunAnalysisOptions = {}): Promise<AnalysisRun> {
  const config = readConfigAt(repoPath, options.branch ?? 'HEAD');
  const progress = options.progress ?? (() => undefined);
  const mined = await mineRepository(store, repoPath, {
    branch: options.branch,
    config,
    detect: provenanceDetector(config),
    ...(options.batchSize === undefined || !Number.isFinite(options.batchSize) ? {} : { batchSize: options.batchSize }),
    progress: (done, total) => progress('mining changes', done, total),
  });
  const steps: Record<string, Record<string, unknown>> = {};
  if (options.mineOnly === true) return { mined, config, steps };
  for (const step of analysisSteps) {
    steps[step.name] = await step.run({ store, repoId: mined.repoId, repoPath, config, progress });
  }
  return { mined, config, steps };
}
