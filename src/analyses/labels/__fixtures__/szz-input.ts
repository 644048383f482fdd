import { execFileSync } from 'node:child_process';
import { LabelsConfig } from '../config.ts';
import type { SzzInput, SzzOptions } from '../szz.ts';

/** Mainline shas of a repository, oldest first. */
export function mainline(dir: string): string[] {
  return execFileSync('git', ['rev-list', '--first-parent', '--reverse', 'HEAD'], { cwd: dir, encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '');
}

/** SZZ input for a scripted repository: the given shas are the fixes, default options otherwise. */
export function szzInputFor(dir: string, fixShas: string[], options: Partial<SzzOptions> = {}, ignoredShas: string[] = []): SzzInput {
  const shas = mainline(dir);
  const positions = new Map(shas.map((sha, i) => [sha, i]));
  const config = LabelsConfig.parse({});
  const at = (sha: string): number => positions.get(sha) ?? -1;
  return {
    positions,
    fixes: new Set(fixShas.map(at)),
    ignored: new Set(ignoredShas.map(at)),
    filesChanged: () => 1,
    options: { traceKinds: config.traceKinds, maxFixFiles: config.maxFixFiles, pick: 'most-recent', ...options },
  };
}
