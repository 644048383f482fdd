import type { Command } from 'commander';

/** Registers the `changes` command(s) (issue 2). */
export function registerChanges(_program: Command): void {
  // Filled in by the module that owns it.
}
