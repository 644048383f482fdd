import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '../../..');

// bin/flowgate.js picks the compiled dist/ only when it is newer than every source file; a stale
// build must never run. Checked on a copy of the launcher whose two entry points say which ran.
describe('bin/flowgate.js', () => {
  let root: string;
  const run = (env: Record<string, string> = {}): string =>
    execFileSync(process.execPath, [join(root, 'bin', 'flowgate.js')], { env: { ...process.env, FLOWGATE_FROM_SOURCE: '', ...env }, encoding: 'utf8' }).trim();
  const setTime = (path: string, seconds: number): void => utimesSync(path, seconds, seconds);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'flowgate-launcher-'));
    mkdirSync(join(root, 'bin'));
    copyFileSync(join(repoRoot, 'bin', 'flowgate.js'), join(root, 'bin', 'flowgate.js'));
    symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
    writeFileSync(join(root, 'package.json'), '{"type":"module"}');
    mkdirSync(join(root, 'src', 'outputs', 'cli'), { recursive: true });
    mkdirSync(join(root, 'dist', 'outputs', 'cli'), { recursive: true });
    const entry = (which: string): string => `export async function runCli(): Promise<number> { process.stdout.write('${which}'); return 0; }\n`;
    writeFileSync(join(root, 'src', 'outputs', 'cli', 'main.ts'), entry('source'));
    writeFileSync(join(root, 'dist', 'outputs', 'cli', 'main.js'), entry('dist').replace(': Promise<number>', ''));
    setTime(join(root, 'src', 'outputs', 'cli', 'main.ts'), 1_700_000_000);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('compiles the sources when there is no build', () => {
    expect(run()).toBe('source');
  });

  it('runs the build when it is newer than every source file', () => {
    writeFileSync(join(root, 'dist', '.built'), '');
    setTime(join(root, 'dist', '.built'), 1_700_000_100);
    expect(run()).toBe('dist');
    expect(run({ FLOWGATE_FROM_SOURCE: '1' })).toBe('source');
  });

  it('compiles the sources again once any source file is newer than the build', () => {
    writeFileSync(join(root, 'dist', '.built'), '');
    setTime(join(root, 'dist', '.built'), 1_700_000_100);
    const edited = join(root, 'src', 'outputs', 'cli', 'other.ts');
    writeFileSync(edited, 'export {};\n');
    setTime(edited, 1_700_000_200);
    expect(run()).toBe('source');
  });
});
