import { describe, expect, it } from 'vitest';
import { seededRandom } from '../simulate/random.ts';
import { estimateReviewMinutes, evaluateReviewTimeModel, fileKind, fitReviewTimeModel, type ReviewObservation } from './estimate.ts';

/** Reviews whose minutes follow 3 * (code lines)^0.6 * 1.5 for senior, with log-normal noise. */
function observations(n: number, seed: number): ReviewObservation[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const code = Math.floor(random() * 400);
    const docs = Math.floor(random() * 50);
    const tier = random() < 0.2 ? ('senior' as const) : ('standard' as const);
    const noise = Math.exp((random() + random() + random() - 1.5) * 0.5);
    const minutes = 3 * Math.pow(code + 1, 0.6) * (tier === 'senior' ? 1.5 : 1) * noise;
    return { time: 1_700_000_000 + i * 3600, change: { tier, files: [{ path: 'src/x.ts', added: code, deleted: 0 }, { path: 'README.md', added: docs, deleted: 0 }] }, minutes };
  });
}

describe('review-time estimate', () => {
  it('classifies files by kind', () => {
    expect(['src/a.ts', 'src/a.test.ts', 'docs/x.md', 'package.json', 'package-lock.json', 'tests/helper.py'].map(fileKind)).toEqual([
      'code',
      'test',
      'docs',
      'config',
      'generated',
      'test',
    ]);
  });

  it('uses a documented default without history, and zero for the auto lane', () => {
    const small = estimateReviewMinutes({ files: [{ path: 'src/a.ts', added: 10, deleted: 5 }] });
    const big = estimateReviewMinutes({ files: [{ path: 'src/a.ts', added: 600, deleted: 0 }] });
    const docs = estimateReviewMinutes({ files: [{ path: 'README.md', added: 600, deleted: 0 }] });
    expect(small.minutes).toBe(8);
    expect(big.minutes).toBeGreaterThan(docs.minutes);
    expect(estimateReviewMinutes({ files: [{ path: 'a.ts', added: 10 }], tier: 'auto' }).minutes).toBe(0);
  });

  it('fits the repository’s own history and beats the median baseline on later changes', () => {
    const data = observations(400, 11);
    const evaluation = evaluateReviewTimeModel(data);
    expect(evaluation.train).toBe(280);
    expect(evaluation.test).toBe(120);
    expect(evaluation.model.maeMinutes).toBeLessThan(evaluation.baseline.maeMinutes * 0.7);
    expect(evaluation.model.withinFactor2).toBeGreaterThan(0.85);
    const model = fitReviewTimeModel(data);
    expect(model.kind === 'fitted' && model.coefficients[1]).toBeCloseTo(0.6, 1);
    const estimate = estimateReviewMinutes({ files: [{ path: 'src/x.ts', added: 99, deleted: 0 }], tier: 'senior' }, model);
    expect(estimate.minutes).toBeGreaterThan(3 * Math.pow(100, 0.6) * 1.5 * 0.8);
    expect(estimate.minutes).toBeLessThan(3 * Math.pow(100, 0.6) * 1.5 * 1.25);
    expect(estimate.low).toBeLessThan(estimate.minutes);
  });

  it('refuses to fit on too little history', () => {
    expect(() => fitReviewTimeModel(observations(5, 1))).toThrow(/at least 10/);
  });
});
