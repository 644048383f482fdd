import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { buildHistory, start } from './__fixtures__/history.ts';

const cli = resolve(import.meta.dirname, '../../../bin/flowgate.js');
const h = 3600;
const day = 86_400;

function flowgate(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

/** PR, review, check, deployment and incident events for the fixture history's PR #1. */
function eventLines(mergeSha: string): string {
  const events = [
    { id: 'pr1-o', type: 'pull_request', action: 'opened', at: start + day + 2 * h, number: 1, author: 'bob', head_branch: 'feature-one' },
    { id: 'pr1-r', type: 'review', at: start + day + 5 * h, number: 1, reviewer: 'alice', state: 'approved' },
    { id: 'pr1-m', type: 'pull_request', action: 'merged', at: start + 2 * day, number: 1, merge_sha: mergeSha },
    { id: 'pr9-o', type: 'pull_request', action: 'opened', at: start + 3 * day, number: 9, author: 'copilot-swe-agent[bot]', head_branch: 'copilot/fix-x' },
    { id: 'pr9-c', type: 'pull_request', action: 'closed', at: start + 4 * day, number: 9 },
    { id: 'ci-1', type: 'check', at: start + 2 * day + h, name: 'test', sha: mergeSha, branch: 'main', conclusion: 'success' },
    { id: 'dep-1', type: 'deployment', at: start + 2 * day + 2 * h, environment: 'production', result: 'success', sha: mergeSha },
    { id: 'inc-1', type: 'incident', action: 'opened', at: start + 2 * day + 5 * h, incident: 'INC-7', severity: 'sev1', deployment: 'dep-1' },
    { id: 'inc-1r', type: 'incident', action: 'resolved', at: start + 2 * day + 6 * h, incident: 'INC-7' },
  ];
  return `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
}

describe('flowgate import and report', () => {
  let repo: RepoBuilder;
  let dir: string;
  let db: string;
  beforeAll(() => {
    repo = buildHistory();
    dir = mkdtempSync(join(tmpdir(), 'flowgate-report-'));
    db = join(dir, 'store.db');
    const mined = flowgate(['analyze', repo.dir, '--db', db, '--no-steps', '--json']);
    expect(mined.stderr).toBe('');
    const mergeSha = repo.git('rev-parse', 'HEAD~4').trim();
    writeFileSync(join(dir, 'events.jsonl'), eventLines(mergeSha));
  });
  afterAll(() => {
    repo.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a file with bad lines, naming each line and field, and imports nothing', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(
      bad,
      [
        JSON.stringify({ id: 'ok', type: 'review', at: start, number: 1, reviewer: 'x', state: 'approved' }),
        '{not json',
        JSON.stringify({ id: 'd', type: 'deployment', at: '2025-01-01', environment: 'production', result: 'success', sha: 'nothex' }),
        '',
        JSON.stringify({ id: 'p', type: 'pull_request', action: 'reopened', at: start, number: 3 }),
      ].join('\n'),
    );
    const run = flowgate(['import', bad, '--repo', repo.dir, '--db', db]);
    expect(run.status).toBe(65);
    expect(run.stderr).toContain('line 2: (line): not valid JSON');
    expect(run.stderr).toMatch(/line 3: at: /);
    expect(run.stderr).toMatch(/line 3: sha: expected a git commit sha/);
    expect(run.stderr).toMatch(/line 5: action: /);
    expect(run.stderr).toContain('nothing was imported');
    const json = JSON.parse(flowgate(['report', repo.dir, '--db', db, '--format', 'json']).stdout) as { coverage: { reviews: number } };
    expect(json.coverage.reviews).toBe(0);
  });

  it('imports events idempotently and reports them as JSON and Markdown', () => {
    const file = join(dir, 'events.jsonl');
    const first = JSON.parse(flowgate(['import', file, '--repo', repo.dir, '--db', db, '--json']).stdout) as Record<string, number>;
    expect(first).toMatchObject({ inserted: 9, skipped: 0 });
    const second = JSON.parse(flowgate(['import', file, '--repo', repo.dir, '--db', db, '--json']).stdout) as Record<string, number>;
    expect(second).toMatchObject({ inserted: 0, skipped: 9 });

    const run = flowgate(['report', repo.dir, '--db', db, '--format', 'json', '--since', '2025-01-06', '--until', '2025-01-20']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const m = JSON.parse(run.stdout) as {
      coverage: { prsWithEvents: number; prsDerived: number };
      dora: { changeFailureRate: { failed: number; total: number }; timeToRestore: { p50: number }; deployments: { count: number; derived: number } };
      provenance: { byClass: { key: string; prs: number; mergeRate: number | null }[] };
      warnings: { id: string; status: string }[];
    };
    // PR #1 has events; PR #2 is still derived from its squash message.
    expect(m.coverage).toMatchObject({ prsWithEvents: 1, prsDerived: 1 });
    // With a production deployment event, release tags are no longer used as deployments.
    expect(m.dora.deployments).toMatchObject({ count: 1, derived: 0 });
    expect(m.dora.changeFailureRate).toMatchObject({ failed: 1, total: 1 });
    expect(m.dora.timeToRestore.p50).toBe(h);
    // The agent's closed PR counts against its merge rate.
    expect(m.provenance.byClass.find((r) => r.key === 'agent')).toMatchObject({ prs: 1, mergeRate: 0 });
    expect(m.warnings).toHaveLength(9);

    const md = flowgate(['report', repo.dir, '--db', db, '--format', 'md', '--compare', '2025-01-06..2025-01-08,2025-01-09..2025-01-19']);
    expect(md.status).toBe(0);
    expect(md.stdout).toContain('## Comparison');
    expect(md.stdout).toContain('|  | 2025-01-06..2025-01-08 | 2025-01-09..2025-01-19 |');
    const pilot = flowgate(['report', repo.dir, '--db', db, '--format', 'md', '--pilot', 'nope']);
    expect(pilot.status).toBe(64);
    expect(pilot.stderr).toContain('unknown team(s) nope');
  });

  it('writes a self-contained HTML report that renders every chart in Chromium without errors', async () => {
    const out = join(dir, 'report.html');
    const run = flowgate(['report', repo.dir, '--db', db, '--out', out]);
    expect(run.status).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)=["']?https?:/i);

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      });
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('request', (request) => {
        if (!request.url().startsWith('file:')) requests.push(request.url());
      });
      await page.goto(`file://${out}`);
      // A string expression: the test's tsconfig has no DOM types.
      const charts = await page.evaluate<{ name: string | null; svg: number; width: number }[]>(
        `[...document.querySelectorAll('figure.chart')].map((f) => { const svg = f.querySelector('svg'); return { name: f.getAttribute('data-chart'), svg: svg ? svg.childElementCount : 0, width: svg ? svg.getBoundingClientRect().width : 0 }; })`,
      );
      expect(charts.map((c) => c.name)).toEqual(['waterfall', 'trends', 'throughput', 'ci', 'provenance-mix', 'lanes', 'reviewer-load', 'knowledge']);
      for (const c of charts) {
        expect(c.svg, `chart ${c.name ?? '?'} has SVG content`).toBeGreaterThan(1);
        expect(c.width).toBeGreaterThan(100);
      }
      expect(await page.textContent('#dora')).toContain('Change failure rate');
      expect(await page.locator('li.warning').count()).toBe(9);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
