import type { Command } from 'commander';

/** Registers the `analyze` command(s) (issue 2). */
export function registerAnalyze(_program: Command): void {
  // Filled in by the module that owns it.
}
