import type { Command } from 'commander';

/** Registers the `report` command(s) (issue 5). */
export function registerReport(_program: Command): void {
  // Filled in by the module that owns it.
}
