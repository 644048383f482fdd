import type { RegisterCommand } from '../shared.ts';
import { registerAnalyze } from './analyze.ts';
import { registerAudit } from './audit.ts';
import { registerChanges } from './changes.ts';
import { registerGate } from './gate.ts';
import { registerImport } from './import.ts';
import { registerModel } from './model.ts';
import { registerReport } from './report.ts';
import { registerReviewers } from './reviewers.ts';
import { registerServe } from './serve.ts';

/** Every command group, in the order `flowgate --help` lists them. */
export const commands: RegisterCommand[] = [
  registerAnalyze,
  registerChanges,
  registerModel,
  registerGate,
  registerAudit,
  registerImport,
  registerReport,
  registerReviewers,
  registerServe,
];
