import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { mainline, szzInputFor } from './__fixtures__/szz-input.ts';
import type { SzzInput, SzzLabel, SzzOptions } from './szz.ts';
import { traceByBlame, traceByStream } from './trace.ts';

const methods = ['stream', 'blame'] as const;

/** Runs one SZZ method and returns labels as [inducing sha, fix sha] pairs. */
async function labelsBy(method: (typeof methods)[number], repo: RepoBuilder, fixShas: string[], options: Partial<SzzOptions> = {}, ignored: string[] = []): Promise<SzzLabel[]> {
  const input: SzzInput = szzInputFor(repo.dir, fixShas, options, ignored);
  if (method === 'stream') return traceByStream(repo.dir, 'HEAD', input);
  const shas = mainline(repo.dir);
  const fixes = fixShas.map((sha) => {
    const position = shas.indexOf(sha);
    return { position, sha, parent: shas[position - 1] ?? null };
  });
  return traceByBlame(repo.dir, fixes, input, ignored);
}

function pairs(repo: RepoBuilder, labels: SzzLabel[]): [string, string][] {
  const shas = mainline(repo.dir);
  return labels.map((l) => [shas[l.inducing] ?? '?', shas[l.fix] ?? '?']);
}

describe.each(methods)('SZZ by %s', (method) => {
  let repo: RepoBuilder | undefined;
  afterEach(() => repo?.dispose());

  it('labels the change whose line a fix deleted, and only that one', async () => {
    repo = new RepoBuilder();
    const a = repo.write('src/calc.ts', 'export function add(a: number, b: number) {\n  return a - b;\n}\n').commit('add calc');
    repo.write('src/other.ts', 'export const x = 1;\n').commit('other');
    repo.write('src/calc.ts', 'export function add(a: number, b: number) {\n  return a - b;\n}\nexport const y = 2;\n').commit('y');
    const fix = repo.write('src/calc.ts', 'export function add(a: number, b: number) {\n  return a + b;\n}\nexport const y = 2;\n').commit('fix add');
    const labels = await labelsBy(method, repo, [fix]);
    expect(pairs(repo, labels)).toEqual([[a, fix]]);
    expect(labels[0]?.lines).toEqual([{ path: 'src/calc.ts', line: 2 }]);
  });

  it('labels nothing for a whitespace-only or comment-only fix', async () => {
    repo = new RepoBuilder();
    repo.write('src/calc.ts', 'function f() {\n  // old note\n  return compute(1);\n}\n').commit('add');
    repo.write('src/calc.py', 'def f():\n    # old note\n    return compute(1)\n').commit('add py');
    const ws = repo.write('src/calc.ts', 'function f() {\n  // old note\n      return compute(1);\n}\n').commit('fix indentation');
    const comment = repo.write('src/calc.ts', 'function f() {\n  // new note\n      return compute(1);\n}\n').write('src/calc.py', 'def f():\n    # new note\n    return compute(1)\n').commit('fix comments');
    expect(await labelsBy(method, repo, [ws, comment])).toEqual([]);
  });

  it('follows a line moved to another file back to the change that wrote it', async () => {
    repo = new RepoBuilder();
    const body = '  const total = items.reduce((sum, item) => sum + item.price * item.quantity, 0);\n';
    const a = repo.write('src/a.ts', `export function total(items) {\n${body}  return total;\n}\n`).commit('add total');
    repo.write('src/b.ts', 'export const other = 1;\n').commit('other');
    repo.remove('src/a.ts').write('src/b.ts', `export const other = 1;\nexport function total(items) {\n${body}  return total;\n}\n`).commit('move total to b');
    const fix = repo
      .write('src/b.ts', `export const other = 1;\nexport function total(items) {\n  const total = items.reduce((sum, item) => sum + item.price * item.qty, 0);\n  return total;\n}\n`)
      .commit('fix total');
    expect(pairs(repo, await labelsBy(method, repo, [fix]))).toEqual([[a, fix]]);
  });

  it('picks the most recent of several introducing changes (R-SZZ), or all of them when asked', async () => {
    repo = new RepoBuilder();
    const a = repo.write('src/m.go', 'package m\n\nfunc A() int { return 1 }\n').commit('a');
    const b = repo.write('src/m.go', 'package m\n\nfunc A() int { return 1 }\nfunc B() int { return 2 }\n').commit('b');
    const fix = repo.write('src/m.go', 'package m\n\nfunc A() int { return 10 }\nfunc B() int { return 20 }\n').commit('fix both');
    expect(pairs(repo, await labelsBy(method, repo, [fix]))).toEqual([[b, fix]]);
    const all = pairs(repo, await labelsBy(method, repo, [fix], { pick: 'all' }));
    expect(all.sort()).toEqual([[a, fix], [b, fix]].sort());
  });

  it('labels the merge that brought a line in, not the branch commit', async () => {
    repo = new RepoBuilder();
    repo.write('lib/x.rb', "def x\n  1\nend\n").commit('init');
    repo.checkout('feature', true);
    repo.write('lib/x.rb', "def x\n  compute_value(2)\nend\n").commit('branch work');
    repo.checkout('main');
    const merge = repo.merge('feature', 'Merge pull request #7 from me/feature');
    const fix = repo.write('lib/x.rb', "def x\n  compute_value(3)\nend\n").commit('fix x');
    expect(pairs(repo, await labelsBy(method, repo, [fix]))).toEqual([[merge, fix]]);
  });

  it('skips changes listed as ignored revisions and fixes touching too many files', async () => {
    repo = new RepoBuilder();
    const a = repo.write('src/f.java', 'class F {\n  int f() { return compute(1); }\n}\n').commit('a');
    const fmt = repo.write('src/f.java', 'class F {\n    int f() {return compute(1);}\n}\n').commit('reformat');
    const fix = repo.write('src/f.java', 'class F {\n    int f() {return compute(2);}\n}\n').commit('fix f');
    expect(pairs(repo, await labelsBy(method, repo, [fix], {}, [fmt]))).toEqual([[a, fix]]);
    expect(await labelsBy(method, repo, [fix], { maxFixFiles: 0 }, [fmt])).toEqual([]);
  });
});

describe('SZZ stream on a repository missing some blobs', () => {
  it('leaves out the files whose blobs are absent and still labels the rest', async () => {
    const repo = new RepoBuilder();
    try {
      const a = repo.write('src/calc.ts', 'export const rate = compute(1);\n').write('assets/big.txt', 'v1\n').commit('add');
      repo.write('assets/big.txt', 'v2\n').commit('update asset');
      const fix = repo.write('src/calc.ts', 'export const rate = compute(2);\n').commit('fix rate');
      const blob = repo.git('rev-parse', `${a}:assets/big.txt`).trim();
      rmSync(`${repo.dir}/.git/objects/${blob.slice(0, 2)}/${blob.slice(2)}`);
      const labels = await traceByStream(repo.dir, 'HEAD', szzInputFor(repo.dir, [fix]));
      expect(pairs(repo, labels)).toEqual([[a, fix]]);
    } finally {
      repo.dispose();
    }
  });

  it('skips a path only where its blob is absent: later versions of the same file are still traced', async () => {
    const repo = new RepoBuilder();
    try {
      const a = repo.write('src/calc.ts', 'export const rate = compute(1);\n').write('src/gen.ts', 'export const g = generated(1);\n').commit('add');
      repo.write('src/gen.ts', 'export const g = generated(2);\nexport const h = generated(3);\n').commit('regenerate');
      const d = repo.write('src/gen.ts', 'export const g = generated(2);\nexport const h = generated(3);\nexport const k = compute(3);\n').commit('add k');
      const fixCalc = repo.write('src/calc.ts', 'export const rate = compute(2);\n').commit('fix rate');
      const fixGen = repo.write('src/gen.ts', 'export const g = generated(2);\nexport const h = generated(3);\nexport const k = compute(4);\n').commit('fix k');
      // The first version of src/gen.ts is gone: `add` and `regenerate` cannot be diffed whole.
      const blob = repo.git('rev-parse', `${a}:src/gen.ts`).trim();
      rmSync(`${repo.dir}/.git/objects/${blob.slice(0, 2)}/${blob.slice(2)}`);
      const labels = await traceByStream(repo.dir, 'HEAD', szzInputFor(repo.dir, [fixCalc, fixGen]));
      expect(pairs(repo, labels)).toEqual([
        [a, fixCalc],
        [d, fixGen],
      ]);
      expect(labels[1]?.lines).toEqual([{ path: 'src/gen.ts', line: 3 }]);
    } finally {
      repo.dispose();
    }
  });
});
