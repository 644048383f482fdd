import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real git repository with `count` mainline commits, written in one `git fast-import` (fast enough
 * for hundreds of commits in a test): large changes to code files get fixed later, small ones and
 * docs changes never do, so a risk model has something true to learn. Commits are `hoursApart`
 * hours apart.
 */
export function syntheticRepo(count: number, hoursApart = 12): string {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-synthetic-'));
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  const files = new Map<string, string[]>();
  const bigChanges: { path: string; line: number }[] = [];
  const chunks: string[] = [];
  const authors = ['Ada <ada@example.com>', 'Bob <bob@example.com>', 'Cy <cy@example.com>'];
  let time = 1_600_000_000;
  for (let i = 0; i < count; i++) {
    time += hoursApart * 3600;
    const path = i % 7 === 0 ? `docs/page${i % 5}.md` : `src/mod${i % 12}.ts`;
    const lines = files.get(path) ?? [];
    let message: string;
    const target = i % 4 === 3 ? bigChanges.shift() : undefined;
    if (target !== undefined) {
      const fixed = files.get(target.path) ?? [];
      fixed[target.line] = `${fixed[target.line] ?? ''} // checked`.replace('compute(', 'computeSafely(');
      files.set(target.path, fixed);
      message = `Fix wrong value in ${target.path}`;
      chunks.push(commit(time, authors[i % 3] ?? '', message, target.path, fixed));
      continue;
    }
    const big = i % 3 === 0 && !path.startsWith('docs/');
    const added = big ? 25 : 1;
    for (let k = 0; k < added; k++) lines.push(path.startsWith('docs/') ? `Text ${i} ${k}.` : `export const v${i}_${k} = compute(${i}, ${k});`);
    if (big) bigChanges.push({ path, line: lines.length - 10 });
    files.set(path, lines);
    message = big ? `Add feature ${i}` : `Tweak ${path}`;
    chunks.push(commit(time, authors[(i * 7) % 3] ?? '', message, path, lines));
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, input: chunks.join('') });
  execFileSync('git', ['reset', '-q', '--hard', 'main'], { cwd: dir });
  return dir;
}

function commit(time: number, author: string, message: string, path: string, lines: string[]): string {
  const content = lines.join('\n') + '\n';
  return (
    `commit refs/heads/main\nauthor ${author} ${time} +0000\ncommitter ${author} ${time} +0000\n` +
    `data ${Buffer.byteLength(message)}\n${message}\nM 100644 inline ${path}\ndata ${Buffer.byteLength(content)}\n${content}\n`
  );
}
