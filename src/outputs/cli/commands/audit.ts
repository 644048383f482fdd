import type { Command } from 'commander';

/** Registers the `audit` command(s) (issue 4). */
export function registerAudit(_program: Command): void {
  // Filled in by the module that owns it.
}
