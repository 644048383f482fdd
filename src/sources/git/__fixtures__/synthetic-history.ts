import { execFileSync } from 'node:child_process';

export interface SyntheticHistoryOptions {
  /** Mainline changes to create. */
  changes: number;
  /** Every n-th change is a merged pull request with two branch commits (0: none). */
  mergeEvery?: number;
  /** Files per folder; the history touches `src/d<k>/f<j>.ts`. */
  files?: number;
  startTime?: number;
  /**
   * Fix commits rewrite two lines written by earlier changes (the newest and one further back)
   * instead of adding lines, so SZZ has something to trace. Off: every commit only appends.
   */
  fixesRewrite?: boolean;
}

/**
 * Writes a large history fast with `git fast-import` (one process instead of thousands of commits):
 * direct commits, merged pull requests with branch commits, some AI trailers. Deterministic.
 */
export function writeSyntheticHistory(dir: string, options: SyntheticHistoryOptions): void {
  const files = options.files ?? 50;
  const mergeEvery = options.mergeEvery ?? 5;
  let time = options.startTime ?? 1_600_000_000;
  let mark = 0;
  const out: string[] = [];
  const lines = new Map<string, number>();
  const authors = ['Ada <ada@example.com>', 'Bob <bob@example.com>', 'Cy <cy@example.com>', 'Dee <dee@example.com>'];
  let lastMain = 0;
  // Lines rewritten by fixes, by path and line number (only with fixesRewrite).
  const rewritten = new Map<string, Map<number, string>>();
  const blob = (path: string, extra: number): string => {
    const n = (lines.get(path) ?? 0) + extra;
    lines.set(path, n);
    const edits = rewritten.get(path);
    const body = Array.from({ length: n }, (_, i) => edits?.get(i) ?? `export const v${i} = ${i};`).join('\n') + '\n';
    return `M 100644 inline ${path}\ndata ${Buffer.byteLength(body)}\n${body}\n`;
  };
  const rewrite = (path: string, i: number): string => {
    const n = lines.get(path) ?? 0;
    const edits = rewritten.get(path) ?? new Map<number, string>();
    rewritten.set(path, edits);
    for (const line of new Set([n - 1, Math.floor(n / 2)])) if (line >= 0) edits.set(line, `export const v${line} = ${line} + ${i};`);
    return blob(path, 0);
  };
  const commit = (ref: string, author: string, message: string, parents: number[], changes: string): number => {
    mark += 1;
    time += 3600;
    const msg = Buffer.from(message);
    out.push(`commit ${ref}\nmark :${mark}\nauthor ${author} ${time} +0000\ncommitter ${author} ${time} +0000\ndata ${msg.length}\n${message}\n`);
    const [from, ...merges] = parents;
    if (from !== undefined) out.push(`from :${from}\n`);
    for (const m of merges) out.push(`merge :${m}\n`);
    out.push(changes, '\n');
    return mark;
  };
  for (let i = 0; i < options.changes; i += 1) {
    const author = authors[i % authors.length] ?? 'Ada <ada@example.com>';
    const path = `src/d${i % 7}/f${(i * 13) % files}.ts`;
    if (mergeEvery > 0 && i % mergeEvery === mergeEvery - 1 && lastMain !== 0) {
      const b1 = commit('refs/heads/topic', author, `work on ${path}`, [lastMain], blob(path, 2));
      const trailer = i % 3 === 0 ? '\n\nCo-Authored-By: Claude <noreply@anthropic.com>' : '';
      const b2 = commit('refs/heads/topic', author, `more work${trailer}`, [b1], blob(`test/t${i % files}.test.ts`, 1));
      lastMain = commit('refs/heads/main', author, `Merge pull request #${i} from org/topic-${i}`, [lastMain, b2], '');
      continue;
    }
    const fix = i % 11 === 0;
    const subject = fix ? `fix crash in ${path}` : `change ${i} (#${i})`;
    const edit = fix && options.fixesRewrite === true && (lines.get(path) ?? 0) > 0 ? rewrite(path, i) : blob(path, 1 + (i % 4));
    lastMain = commit('refs/heads/main', author, subject, lastMain === 0 ? [] : [lastMain], edit);
  }
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, input: out.join(''), maxBuffer: 1024 * 1024 * 1024 });
  execFileSync('git', ['reset', '-q', '--hard', 'main'], { cwd: dir });
}
