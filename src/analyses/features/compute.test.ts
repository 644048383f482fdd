import { describe, expect, it } from 'vitest';
import { computeFeatures, type FeatureChange, type FeatureFile } from './compute.ts';

const day = 86_400;
const t0 = 1_700_000_000;

function change(position: number, authorId: number, files: FeatureFile[], extra: Partial<FeatureChange> = {}): FeatureChange {
  return { position, time: t0 + position * day, authorId, kind: 'direct', provenance: 'human', commits: 1, files, ...extra };
}
const mod = (path: string, added: number, deleted: number): FeatureFile => ({ path, oldPath: null, status: 'M', added, deleted });
const add = (path: string, added: number): FeatureFile => ({ path, oldPath: null, status: 'A', added, deleted: 0 });

describe('computeFeatures', () => {
  const history: FeatureChange[] = [
    change(0, 1, [add('src/a.ts', 100), add('docs/readme.md', 10)]),
    change(1, 2, [mod('src/a.ts', 10, 5), add('test/a.test.ts', 40)]),
    change(2, 1, [{ path: 'lib/b.ts', oldPath: 'src/a.ts', status: 'R', added: 3, deleted: 1 }]),
    change(3, 3, [mod('lib/b.ts', 1, 1), mod('docs/readme.md', 2, 2)], { provenance: 'agent', kind: 'merge', commits: 4 }),
    change(4, 1, [mod('lib/b.ts', 5, 0)]),
  ];

  it('computes Kamei size, diffusion and history features as of each change, following renames', () => {
    const features = computeFeatures(history, { fixes: new Set([3]), reverts: new Set(), labels: [] });
    const first = features.get(0)!;
    expect(first).toMatchObject({ nf: 2, ns: 2, nd: 2, la: 110, ld: 0, lt: 0, exp: 0, ndev: 0, nuc: 0, files_new: 2, nf_code: 1, nf_docs: 1 });
    expect(first.entropy).toBeCloseTo(-(100 / 110) * Math.log2(100 / 110) - (10 / 110) * Math.log2(10 / 110));
    expect(features.get(1)).toMatchObject({ lt: 100, ndev: 1, nuc: 1, age: 1, exp: 0, la_test: 40, la_code: 10, nf_test: 1 });
    // The rename carries a.ts's 105 lines, two developers and two changes to lib/b.ts.
    expect(features.get(2)).toMatchObject({ lt: 105, ndev: 2, nuc: 2, exp: 1, sexp: 0, files_renamed: 1 });
    const fourth = features.get(3)!;
    expect(fourth).toMatchObject({ lt: 107 + 10, nuc: 3, ndev: 2, fix: 1, prov_agent: 1, merge: 1, commits: 4 });
    expect(features.get(4)).toMatchObject({ exp: 2, sexp: 1, prior_fixes: 1, nuc: 4 });
    expect(features.get(4)!.rexp).toBeCloseTo(2);
  });

  it('counts a defect whose fix is known before the pass reaches it once the defect is in (tied or backward commit times)', () => {
    // A rebased series commits in one second: the fix's time is the defect's own.
    const tied = [change(0, 1, [add('src/x.ts', 10)]), change(1, 2, [mod('src/x.ts', 2, 2)], { time: t0 + day }), change(2, 2, [mod('src/x.ts', 1, 1)], { time: t0 + day }), change(3, 1, [mod('src/x.ts', 1, 0)])];
    const features = computeFeatures(tied, { fixes: new Set([2]), reverts: new Set(), labels: [{ inducing: 1, knownAt: t0 + day }] });
    expect(features.get(1)).toMatchObject({ prior_bugs: 0, author_bugs: 0 });
    expect(features.get(2)).toMatchObject({ prior_bugs: 1, author_bugs: 1, dir_bugs: 1 });
    expect(features.get(3)).toMatchObject({ prior_bugs: 1, dir_bugs: 1 });
  });

  it('counts a defect only once its fix is known', () => {
    const early = computeFeatures(history, { fixes: new Set([3]), reverts: new Set(), labels: [{ inducing: 1, knownAt: t0 + 3 * day }] });
    // Change 1 touched src/a.ts (now lib/b.ts) and was author 2's: known from change 3 on.
    expect(early.get(2)).toMatchObject({ prior_bugs: 0 });
    expect(early.get(3)).toMatchObject({ prior_bugs: 1 });
    expect(early.get(4)).toMatchObject({ prior_bugs: 1, author_bugs: 0 });
    const late = computeFeatures(history, { fixes: new Set(), reverts: new Set(), labels: [{ inducing: 0, knownAt: t0 + 10 * day }] });
    expect(late.get(4)).toMatchObject({ prior_bugs: 0, author_bugs: 0 });
    const byAuthor = computeFeatures(history, { fixes: new Set(), reverts: new Set(), labels: [{ inducing: 0, knownAt: t0 + 1 * day }] });
    expect(byAuthor.get(2)).toMatchObject({ author_bugs: 1, prior_bugs: 1 });
    expect(byAuthor.get(2)!.author_bug_rate).toBeCloseTo(1 / 2);
  });

  it('returns only the wanted changes but builds state from all', () => {
    const only = computeFeatures(history, { fixes: new Set(), reverts: new Set(), labels: [] }, (p) => p === 4);
    expect([...only.keys()]).toEqual([4]);
    expect(only.get(4)).toMatchObject({ exp: 2, nuc: 4 });
  });
});
