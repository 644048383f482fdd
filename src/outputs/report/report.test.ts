import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { runCliInProcess } from '../cli/__fixtures__/in-process.ts';
import { buildHistory, start } from './__fixtures__/history.ts';

const cli = resolve(import.meta.dirname, '../../../bin/flowgate.js');
const h = 3600;
const day = 86_400;
const alice = { name: 'Alice', email: 'alice@example.com' };

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a child process: for what only a real process shows (exit status, streams, files). */
function flowgateProcess(args: string[]): Run {
  const out = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

/** The same CLI entry point in this process: the commands' output captured while it runs. */
const flowgate = (args: string[]): Promise<Run> => runCliInProcess(args);

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

interface ReportJson {
  summary: { changes: number };
  teams: string[];
  weekly: { byTeam: Record<string, number> }[];
  coverage: { reviews: number; prsWithEvents: number; prsDerived: number; problems: string[] };
  dora: { changeFailureRate: { failed: number; total: number }; timeToRestore: { p50: number }; deployments: { count: number; derived: number } };
  provenance: { byClass: { key: string; prs: number; mergeRate: number | null }[] };
  warnings: { id: string; status: string }[];
}

describe('flowgate import and report', () => {
  let repo: RepoBuilder;
  let dir: string;
  let db: string;
  beforeAll(async () => {
    repo = buildHistory();
    // Teams come from the policy config's typed `teams` section: Bob is the pilot team "core".
    repo.write('.flowgate.yml', 'teams:\n  core:\n    members: [bob@example.com]\n');
    repo.commit('Add the flowgate config', { author: alice, time: start + 8 * day });
    dir = mkdtempSync(join(tmpdir(), 'flowgate-report-'));
    db = join(dir, 'store.db');
    const mined = await flowgate(['analyze', repo.dir, '--db', db, '--no-steps', '--no-report', '--json']);
    expect(mined.stderr).toBe('');
    expect(mined.status).toBe(0);
    const mergeSha = repo.git('log', '--format=%H', '--grep', 'Merge pull request #1', 'main').trim();
    expect(mergeSha).toMatch(/^[0-9a-f]{40}$/);
    writeFileSync(join(dir, 'events.jsonl'), eventLines(mergeSha));
  });
  afterAll(() => {
    repo.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a file with bad lines, naming each line and field, and imports nothing (exit status 65)', async () => {
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
    const run = flowgateProcess(['import', bad, '--repo', repo.dir, '--db', db]);
    expect(run.status).toBe(65);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('line 2: (line): not valid JSON');
    expect(run.stderr).toMatch(/line 3: at: /);
    expect(run.stderr).toMatch(/line 3: sha: expected a git commit sha/);
    expect(run.stderr).toMatch(/line 5: action: /);
    expect(run.stderr).toContain('nothing was imported');
    const report = await flowgate(['report', repo.dir, '--db', db, '--format', 'json']);
    expect((JSON.parse(report.stdout) as ReportJson).coverage.reviews).toBe(0);
  });

  it('imports events idempotently and reports them as JSON and Markdown on standard output', async () => {
    const file = join(dir, 'events.jsonl');
    const first = await flowgate(['import', file, '--repo', repo.dir, '--db', db, '--json']);
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ inserted: 9, skipped: 0 });
    const second = await flowgate(['import', file, '--repo', repo.dir, '--db', db, '--json']);
    expect(JSON.parse(second.stdout)).toMatchObject({ inserted: 0, skipped: 9 });

    const run = await flowgate(['report', repo.dir, '--db', db, '--format', 'json', '--since', '2025-01-06', '--until', '2025-01-20']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const m = JSON.parse(run.stdout) as ReportJson;
    // PR #1 has events; PR #2 is still derived from its squash message.
    expect(m.coverage).toMatchObject({ prsWithEvents: 1, prsDerived: 1, problems: [] });
    // With a production deployment event, release tags are no longer used as deployments.
    expect(m.dora.deployments).toMatchObject({ count: 1, derived: 0 });
    expect(m.dora.changeFailureRate).toMatchObject({ failed: 1, total: 1 });
    expect(m.dora.timeToRestore.p50).toBe(h);
    // The agent's closed PR counts against its merge rate.
    expect(m.provenance.byClass.find((r) => r.key === 'agent')).toMatchObject({ prs: 1, mergeRate: 0 });
    expect(m.warnings).toHaveLength(9);
    // Throughput per team: Bob's three mainline changes (the PR #1 merge, "Break things", the hotfix).
    expect(m.teams).toEqual(['core']);
    expect(m.weekly.reduce((n, w) => n + (w.byTeam['core'] ?? 0), 0)).toBe(3);

    const md = await flowgate(['report', repo.dir, '--db', db, '--format', 'md', '--compare', '2025-01-06..2025-01-08,2025-01-09..2025-01-19']);
    expect(md.status).toBe(0);
    expect(md.stdout).toContain('## Comparison');
    expect(md.stdout).toContain('|  | 2025-01-06..2025-01-08 | 2025-01-09..2025-01-19 |');

    const pilot = await flowgate(['report', repo.dir, '--db', db, '--format', 'json', '--pilot', 'core']);
    expect(pilot.status).toBe(0);
    const views = (JSON.parse(pilot.stdout) as { comparison: ReportJson[] }).comparison;
    // The pilot team against the rest: Bob's 3 changes, everyone else's 4 (Add a, Add b, the revert, the config).
    expect(views.map((v) => v.summary.changes)).toEqual([3, 4]);
    const unknown = await flowgate(['report', repo.dir, '--db', db, '--format', 'md', '--pilot', 'nope']);
    expect(unknown.status).toBe(64);
    expect(unknown.stderr).toContain('unknown team(s) nope; teams in the policy config: core');
  });

  it('writes a self-contained HTML report with --out that renders every chart in Chromium without errors', async () => {
    const out = join(dir, 'report.html');
    const run = flowgateProcess(['report', repo.dir, '--db', db, '--out', out]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`flowgate: report written to ${out}\n`);
    expect(run.stderr).not.toContain('warning');
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

  it('warns, in the output and on standard error, when the policy config with the teams is invalid', async () => {
    // The list form is not what the policy's `teams` schema accepts: the config is invalid as a whole.
    repo.write('.flowgate.yml', 'teams:\n  core: [bob@example.com]\n');
    repo.commit('Break the flowgate config', { author: alice, time: start + 9 * day });
    const md = await flowgate(['report', repo.dir, '--db', db, '--format', 'md']);
    expect(md.status).toBe(0);
    expect(md.stderr).toMatch(/^flowgate: warning: \.flowgate\.yml at main cannot be used, so throughput per team and --pilot have no teams: .*teams\.core/s);
    expect(md.stdout).toContain('> **Warning:** .flowgate.yml at main cannot be used');
    const out = join(dir, 'invalid-config.html');
    expect((await flowgate(['report', repo.dir, '--db', db, '--out', out])).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('<p class="problem">.flowgate.yml at main cannot be used');
    const json = JSON.parse((await flowgate(['report', repo.dir, '--db', db, '--format', 'json'])).stdout) as ReportJson;
    expect(json.teams).toEqual([]);
    expect(json.coverage.problems).toHaveLength(1);
    const pilot = await flowgate(['report', repo.dir, '--db', db, '--format', 'md', '--pilot', 'core']);
    expect(pilot.status).toBe(64);
    expect(pilot.stderr).toContain('unknown team(s) core; teams in the policy config: .flowgate.yml at main cannot be used');
  });
});
