import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticRepo } from '../../../analyses/labels/__fixtures__/synthetic-repo.ts';
import { RepoBuilder } from '../../../sources/git/__fixtures__/repo-builder.ts';

const cli = resolve(import.meta.dirname, '../../../../bin/flowgate.js');

function flowgate(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe('flowgate model', () => {
  let repo: string;
  let dir: string;
  let db: string;
  beforeAll(() => {
    repo = syntheticRepo(400);
    dir = mkdtempSync(join(tmpdir(), 'flowgate-model-cli-'));
    db = join(dir, 'store.db');
    const run = flowgate(['analyze', repo, '--db', db, '--json', '--no-report']);
    expect(run.status).toBe(0);
  });
  afterAll(() => {
    rmSync(repo, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('evaluates chronologically beside the baselines, as JSON', () => {
    const run = flowgate(['model', 'eval', repo, '--db', db, '--json', '--gap-days', '0']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as { rows: number; test: { rows: number }; model: Record<string, unknown> & { auc: number; lanes: { autoShare: number }[] }; baselines: { laOnly: { auc: number } } };
    expect(result.rows).toBe(400);
    expect(result.test.rows).toBeGreaterThan(50);
    // Large code changes are the ones fixed later: the model must rank far better than chance.
    expect(result.model.auc).toBeGreaterThan(0.8);
    expect(result.baselines.laOnly.auc).toBeGreaterThan(0.5);
    expect(result.model.lanes.map((l) => l.autoShare)).toEqual([0.3, 0.5, 0.7]);
    for (const key of ['recallAt20Effort', 'effortAt20Recall', 'popt', 'brier', 'ece']) expect(typeof result.model[key]).toBe('number');
    // The gap to LA-only, compared on the same test changes.
    const versus = (JSON.parse(run.stdout) as { versus: { laOnly: { difference: number } } }).versus.laOnly;
    expect(versus.difference).toBeCloseTo(result.model.auc - result.baselines.laOnly.auc, 10);
  });

  it('prints the tables for people', () => {
    const run = flowgate(['model', 'eval', repo, '--db', db]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Recall@20%Effort/);
    expect(run.stdout).toMatch(/LA-only/);
    expect(run.stdout).toMatch(/1\/churn/);
    expect(run.stdout).toMatch(/auto 50%: escaped \/ in lane/);
    expect(run.stdout).toMatch(/model - logistic regression [+-]\d\.\d{3} \(95% [+-]\d\.\d{3} to [+-]\d\.\d{3}\)/);
  });

  it('also evaluates the model as it runs, retrained window by window, when asked (--rolling)', () => {
    // 400 commits 36 hours apart: 600 days, so the later half has windows after six months of history.
    const long = syntheticRepo(400, 36);
    try {
      expect(flowgate(['analyze', long, '--db', db, '--json', '--no-report']).status).toBe(0);
      const run = flowgate(['model', 'eval', long, '--db', db, '--json', '--gap-days', '7', '--rolling', '3']);
      expect(run.status).toBe(0);
      const result = JSON.parse(run.stdout) as { rolling: { windows: { trainCutoff: number; test: { from: number; rows: number } ; modelAuc: number; logisticAuc: number }[]; versus: { logistic: { difference: number } } } };
      const windows = result.rolling.windows;
      expect(windows.length).toBeGreaterThanOrEqual(3);
      for (const w of windows) expect(w.test.from).toBeGreaterThan(w.trainCutoff + 7 * 86_400);
      expect(windows.reduce((n, w) => n + w.test.rows, 0)).toBeLessThanOrEqual(200);
      const scored = windows.filter((w) => !Number.isNaN(w.modelAuc));
      expect(result.rolling.versus.logistic.difference).toBeCloseTo(scored.reduce((a, w) => a + w.modelAuc - w.logisticAuc, 0) / scored.length, 10);
      const text = flowgate(['model', 'eval', long, '--db', db, '--rolling', '3']);
      expect(text.stdout).toMatch(/rolling: retrained every 3 months/);
      expect(text.stdout).toMatch(/mean of \d+ windows with both classes: model \d\.\d{3}/);
      expect(flowgate(['model', 'eval', long, '--db', db, '--rolling', 'often']).stderr).toMatch(/--rolling expects a number/);
    } finally {
      rmSync(long, { recursive: true, force: true });
    }
  });

  it('trains and reports the default model while history is short', () => {
    const run = flowgate(['model', 'train', repo, '--db', db, '--json']);
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as { labels: { newFixes: number }; model: unknown };
    expect(result.labels.newFixes).toBe(0);
    expect(result.model).toMatchObject({ model: 'default', rows: 400 });
  });

  it('refuses bad flags and too little history with clear errors and exit statuses', () => {
    const bad = flowgate(['model', 'eval', repo, '--db', db, '--features', 'some']);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toMatch(/--features expects all or kamei/);
    const small = new RepoBuilder();
    try {
      small.write('a.ts', 'export const a = 1;\n').commit('Add a');
      expect(flowgate(['analyze', small.dir, '--db', db, '--json', '--no-report']).status).toBe(0);
      const run = flowgate(['model', 'eval', small.dir, '--db', db]);
      expect(run.status).toBe(65);
      expect(run.stderr).toMatch(/flowgate analyze/);
    } finally {
      small.dispose();
    }
  });
});
