#!/usr/bin/env node
// Runs the compiled JavaScript in dist/ (`npm install` builds it through the `prepare` script) when
// it is newer than every source file: start-up is then about a third of compiling the TypeScript
// on load. Otherwise (no build, or a source edited since) tsx compiles the sources on load, so a
// checkout being worked on never runs stale code.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

/** Whether dist/ holds a build stamped after every source file last changed. */
function freshBuild() {
  let built;
  try {
    built = statSync(join(root, 'dist', '.built')).mtimeMs;
  } catch {
    return false;
  }
  const src = join(root, 'src');
  return readdirSync(src, { recursive: true, withFileTypes: true }).every((entry) => !entry.isFile() || statSync(join(entry.parentPath, entry.name)).mtimeMs <= built);
}

let runCli;
if (process.env.FLOWGATE_FROM_SOURCE !== '1' && freshBuild()) {
  ({ runCli } = await import('../dist/outputs/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ runCli } = await import('../src/outputs/cli/main.ts'));
}
process.exitCode = await runCli(process.argv.slice(2));
