import type { Command } from 'commander';

/** Registers the `reviewers` command(s) (issue 7: reviewers, simulate). */
export function registerReviewers(_program: Command): void {
  // Filled in by the module that owns it.
}
