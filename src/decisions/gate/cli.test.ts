import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../core/config.ts';
import { labelsStep } from '../../analyses/labels/step.ts';
import { runAnalysis } from '../../analyses/run.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { readAuditRecords } from '../audit/log.ts';
import { branchWith, gateRepo, people } from './__fixtures__/gate-repo.ts';
import type { Decision } from './types.ts';

const bin = new URL('../../../bin/flowgate.js', import.meta.url).pathname;

// No store unless a test names one: check and explain read FLOWGATE_DB (or the default file) by default.
const noStoreDir = mkdtempSync(join(tmpdir(), 'flowgate-no-store-'));
const noStore = join(noStoreDir, 'none.db');
afterAll(() => rmSync(noStoreDir, { recursive: true, force: true }));

/** Runs the real CLI as a child process. */
function flowgate(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, FLOWGATE_DB: noStore, ...env } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('flowgate check / explain as a child process', () => {
  let repo: RepoBuilder;
  let files: string;
  beforeAll(() => {
    repo = gateRepo();
    files = mkdtempSync(join(tmpdir(), 'flowgate-gate-cli-'));
  });
  afterAll(() => {
    repo.dispose();
    rmSync(files, { recursive: true, force: true });
  });

  it('exits 0 for a docs-only change and prints the decision as JSON', () => {
    const head = branchWith(repo, 'docs', { 'docs/guide.md': '# guide\n\nnew words\n' });
    const run = flowgate(['check', '--base', 'main', '--head', head, '--format', 'json', repo.dir]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const decision = JSON.parse(run.stdout) as Decision;
    expect(decision).toMatchObject({ outcome: 'merge-allowed', tier: 'auto', lane: 'docs', head, risk: null });
    // With no store there, nothing is created and the output says the decision is by rules alone.
    expect(decision.notes).toEqual([expect.stringMatching(/^no store at .*none\.db: .* was never analyzed, decided by rules alone/)]);
    expect(existsSync(noStore)).toBe(false);
  });

  it('exits 10 when the tier is at or above --fail-on, and writes the PR comment as Markdown', () => {
    const head = branchWith(repo, 'migration', { 'migrations/001.sql': 'create table t (id int);\n' });
    // The base policy requires check `ci` for senior: without it the change would be blocked (11).
    const unblocked = join(files, 'checks.json');
    writeFileSync(unblocked, JSON.stringify([{ name: 'ci', status: 'success' }]));
    const again = flowgate(['check', '--base', 'main', '--head', head, '--format', 'markdown', '--fail-on', 'standard', '--checks', unblocked, repo.dir]);
    expect(again.status).toBe(10);
    expect(again.stdout).toMatch(/^### 👀 flowgate: needs review: tier senior/);
    expect(again.stdout).toContain('- split out migrations/001.sql (floor:migrations)');
    expect(flowgate(['check', '--base', 'main', '--head', head, '--checks', unblocked, repo.dir]).status).toBe(0);
  });

  it('exits 11 for an agent touching a forbidden path, even with approvals from --approvals', () => {
    const head = branchWith(repo, 'agent-secret', { 'src/secrets/key.ts': 'export const k = 1;\n' }, { author: people.agent });
    const approvals = join(files, 'approvals.json');
    writeFileSync(approvals, JSON.stringify([{ by: 'bob', sha: head }, { by: 'sam', sha: head }]));
    const run = flowgate(['check', '--base', 'main', '--head', head, '--approvals', approvals, repo.dir]);
    expect(run.status).toBe(11);
    expect(run.stdout).toContain('Blocked because:\n  agent claude may not change src/secrets/key.ts');
    expect(run.stdout).toContain('bob on ');
  });

  it('explains a landed merge against its first parent', () => {
    const feature = branchWith(repo, 'feature-x', { 'src/util.ts': 'export const one = 7;\n', 'docs/guide.md': '# g\n' });
    repo.checkout('main');
    const merge = repo.merge('feature-x', 'Merge feature-x');
    const run = flowgate(['explain', merge.slice(0, 10), repo.dir, '--format', 'json']);
    expect(run.status).toBe(0);
    const decision = JSON.parse(run.stdout) as Decision;
    expect(decision.head).toBe(merge);
    expect(decision.base).toBe(repo.git('rev-parse', `${merge}^1`).trim());
    expect(decision.files).toBe(2);
    expect(feature).not.toBe(merge);
  });

  it('rejects bad input with a clear message and a documented status', () => {
    const bad = join(files, 'bad-approvals.json');
    writeFileSync(bad, JSON.stringify([{ who: 'bob' }]));
    const run = flowgate(['check', '--base', 'main', '--head', 'main', '--approvals', bad, repo.dir]);
    expect(run.status).toBe(64);
    expect(run.stderr).toContain('--approvals');
    expect(run.stderr).toContain('sha');
  });
});

describe('flowgate init / policy', () => {
  it('writes a starter, validates it, refuses to overwrite, rejects an invalid file and prints the schema', () => {
    const repo = new RepoBuilder();
    try {
      repo.write('a.txt', 'a').commit('init');
      expect(flowgate(['init', repo.dir]).status).toBe(0);
      const ok = flowgate(['policy', 'validate', repo.dir]);
      expect(ok.status).toBe(0);
      expect(ok.stdout).toMatch(/^ok: .*\.flowgate\.yml: 0 agents, 0 teams, 1 floors/);
      expect(ok.stdout).toContain('warning: tiers.senior.approvals.from names seniors');
      writeFileSync(join(repo.dir, '.flowgate.yml'), 'tiers:\n  light: { maxLines: 10 }\n');
      const invalid = flowgate(['policy', 'validate', join(repo.dir, '.flowgate.yml')]);
      expect(invalid.status).toBe(78);
      expect(invalid.stderr).toContain('tiers.light.maxLines (10) is below tiers.auto.maxLines (50)');
      const schema = flowgate(['policy', 'schema']);
      expect(JSON.parse(schema.stdout)).toEqual(configJsonSchema());
      expect(readFileSync(join(repo.dir, '.flowgate.yml'), 'utf8')).toContain('maxLines: 10');
    } finally {
      repo.dispose();
    }
  });
});

describe.each(storeKinds)('flowgate check --db on %s', (kind) => {
  it('stores the decision and appends it to the audit log', async () => {
    const store = await openTestStore(kind);
    const repo = gateRepo();
    try {
      const head = branchWith(repo, 'x', { 'src/util.ts': 'export const one = 8;\n' });
      const env: Record<string, string> = store.schema === undefined ? {} : { FLOWGATE_DB_SCHEMA: store.schema };
      const run = flowgate(['check', '--base', 'main', '--head', head, '--db', store.location, repo.dir], env);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const rows = await store.db.selectFrom('decisions').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ subject: head, outcome: 'needs-review', tier: 'light' });
      expect((JSON.parse(rows[0]!.decision) as Decision).head).toBe(head);
      const audit = await readAuditRecords(store.db);
      expect(audit.map((r) => [r.kind, r.subject])).toEqual([['gate.decision', head]]);
      expect(audit[0]?.payload).toMatchObject({ decisionId: rows[0]!.id, outcome: 'needs-review' });
    } finally {
      repo.dispose();
      await store.dispose();
    }
  });
});

describe.each(storeKinds)('flowgate check and explain with what the store knows on %s', (kind) => {
  let store: TestStore;
  let repo: RepoBuilder;
  let env: Record<string, string>;
  let landed: string;
  beforeAll(async () => {
    store = await openTestStore(kind);
    env = { FLOWGATE_DB: store.location, ...(store.schema === undefined ? {} : { FLOWGATE_DB_SCHEMA: store.schema }) };
    repo = gateRepo();
    // Two earlier changes by the agent on the mainline, then the analysis `flowgate analyze` runs.
    repo.write('docs/agent.md', '# notes\n').commit('Agent notes', { author: people.agent });
    landed = repo.write('src/util.ts', 'export const one = 1;\nexport const two = 2;\n').commit('Add two', { author: people.agent });
    const { mined, config } = await runAnalysis(store, repo.dir, { mineOnly: true });
    await labelsStep.run({ store, repoId: mined.repoId, repoPath: repo.dir, config, progress: () => undefined });
  });
  afterAll(async () => {
    repo.dispose();
    await store.dispose();
  });

  it("takes the risk (with its top factors) and the agent's trust from the store by default", () => {
    const head = branchWith(repo, 'agent-change', { 'src/app.ts': 'export const sub = (a: number, b: number): number => a - b;\n' }, { author: people.agent });
    const run = flowgate(['check', '--base', 'main', '--head', head, '--format', 'json', repo.dir], env);
    expect(run.stderr).toBe('');
    const decision = JSON.parse(run.stdout) as Decision;
    expect(decision.risk).toMatchObject({ source: 'default-model', probability: expect.any(Number) as unknown });
    expect(decision.risk?.topFactors).toHaveLength(5);
    expect(decision.rules.find((r) => r.rule === 'risk')?.detail).toContain(`risk ${decision.risk?.probability.toFixed(2) ?? ''}`);
    expect(decision.trust).toMatchObject({ changes: 2, level: 'trusted' });
    expect(decision.notes).toEqual([
      'risk from the default model: the repository has no trained model of its own yet',
      'trust of agent claude from its 2 earlier changes in the store (0 with a recorded gate decision, the others judged by this policy)',
    ]);
    const text = flowgate(['check', '--base', 'main', '--head', head, repo.dir], env).stdout;
    expect(text).toMatch(/Risk:\n {2}probability \d\.\d\d \(the default model\)\n {2}\w+ = /);
    expect(text).toContain('Based on:\n  risk from the default model');
  });

  it('lets --risk and --trust override the store', () => {
    const head = branchWith(repo, 'agent-override', { 'src/app.ts': 'export const mul = 3;\n' }, { author: people.agent });
    const files = mkdtempSync(join(tmpdir(), 'flowgate-override-'));
    try {
      writeFileSync(join(files, 'risk.json'), JSON.stringify({ probability: 0.05 }));
      writeFileSync(join(files, 'trust.json'), JSON.stringify([{ lane: 'auto', defectInducing: true, reverted: false, time: 1 }, { lane: 'auto', defectInducing: true, reverted: false, time: 2 }]));
      const run = flowgate(['check', '--base', 'main', '--head', head, '--format', 'json', '--risk', join(files, 'risk.json'), '--trust', join(files, 'trust.json'), repo.dir], env);
      const decision = JSON.parse(run.stdout) as Decision;
      expect(decision.risk).toEqual({ probability: 0.05, topFactors: [], source: 'given' });
      expect(decision.trust).toMatchObject({ changes: 2, level: 'suspended' });
      // Auto by risk and size, but the suspended agent is held out of the auto lane.
      expect(decision.tier).toBe('light');
      expect(decision.notes).toEqual([`risk from --risk ${join(files, 'risk.json')}`, `agent trust from --trust ${join(files, 'trust.json')}`]);
    } finally {
      rmSync(files, { recursive: true, force: true });
    }
  });

  it('explains a landed change with its stored features and the record before it, and records it under the repository', async () => {
    const run = flowgate(['explain', landed, repo.dir, '--format', 'json', '--db', store.location], env);
    expect(run.stderr).toBe('');
    const decision = JSON.parse(run.stdout) as Decision;
    expect(decision.trust).toMatchObject({ changes: 1 });
    expect(decision.risk?.source).toBe('default-model');
    const repoRow = await store.db.selectFrom('repositories').select('id').where('key', '=', realpathSync(repo.dir)).executeTakeFirstOrThrow();
    const rows = await store.db.selectFrom('decisions').select(['repo_id', 'subject']).where('subject', '=', landed).execute();
    expect(rows).toEqual([{ repo_id: repoRow.id, subject: landed }]);
  });

  it('says when this repository was never analyzed into the store, and decides by rules alone', () => {
    const other = gateRepo();
    try {
      const head = branchWith(other, 'y', { 'src/util.ts': 'export const one = 9;\n' });
      const run = flowgate(['check', '--base', 'main', '--head', head, '--format', 'json', other.dir], env);
      expect(run.status).toBe(0);
      const decision = JSON.parse(run.stdout) as Decision;
      expect(decision).toMatchObject({ risk: null, tier: 'light', notes: [`${realpathSync(other.dir)} was never analyzed into this store: no risk estimate and no agent record, decided by rules alone (run \`flowgate analyze\`)`] });
      expect(decision.rules.map((r) => r.rule)).toContain('unscored');
    } finally {
      other.dispose();
    }
  });
});
