import type { Command } from 'commander';

/** Registers the `model` command(s) (issue 3). */
export function registerModel(_program: Command): void {
  // Filled in by the module that owns it.
}
