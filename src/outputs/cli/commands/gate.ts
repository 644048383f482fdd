import type { Command } from 'commander';

/** Registers the `gate` command(s) (issue 4: init, policy, check, explain). */
export function registerGate(_program: Command): void {
  // Filled in by the module that owns it.
}
