import type { Command } from 'commander';

/** Registers the `serve` command(s) (issue 6: serve, worker, github, token). */
export function registerServe(_program: Command): void {
  // Filled in by the module that owns it.
}
