import type { Command } from 'commander';

/** Registers the `import` command(s) (issue 5). */
export function registerImport(_program: Command): void {
  // Filled in by the module that owns it.
}
