import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { loadPolicyAt } from '../policy/policy.ts';
import { computeTrust, type TrustRecord } from '../trust/trust.ts';
import { basePolicy, branchWith, decideIn, gateRepo, lines, people } from './__fixtures__/gate-repo.ts';
import { collectChangeFacts } from './facts.ts';
import { decideChange } from './decide.ts';
import { formatDecision } from './format.ts';

const ci = (sha: string, status = 'success') => [{ name: 'ci', status, sha }];

describe('decideChange on real repositories', () => {
  let repo: RepoBuilder;
  beforeAll(() => {
    repo = gateRepo();
  });
  afterAll(() => repo.dispose());

  describe('lanes need every file to qualify', () => {
    it('puts a docs-only change in the docs lane (auto) and lets it merge', async () => {
      const head = branchWith(repo, 'docs-only', { 'docs/guide.md': '# guide\n\nMore words.\n', 'README.md': '# project\n\nhello\n' });
      const d = await decideIn(repo, head);
      expect(d).toMatchObject({ lane: 'docs', tier: 'auto', outcome: 'merge-allowed', files: 2 });
      expect(d.rules.map((r) => r.rule)).toContain('lane:docs');
    });

    it('does not treat one docs file plus one code file as the docs lane', async () => {
      const head = branchWith(repo, 'docs-and-code', { 'docs/guide.md': '# guide\n\nother\n', 'src/util.ts': 'export const one = 2;\n' });
      const d = await decideIn(repo, head);
      expect(d.lane).toBeNull();
      expect(d.tier).toBe('light');
      expect(d.outcome).toBe('needs-review');
      expect(d.toLowerTier).toContain('split out src/util.ts to qualify for the docs lane (auto)');
    });

    it('puts a tests-only change in the tests lane and a lockfile-only change in the lockfile lane', async () => {
      const tests = await decideIn(repo, branchWith(repo, 'tests-only', { 'tests/app.test.ts': lines(120, 'expect') }));
      expect(tests).toMatchObject({ lane: 'tests', tier: 'light' });
      const lock = await decideIn(repo, branchWith(repo, 'lock-only', { 'package-lock.json': '{ "lockfileVersion": 3, "x": 1 }\n' }));
      expect(lock).toMatchObject({ lane: 'lockfile', tier: 'light' });
    });

    it('detects formatting-only changes (whitespace and blank lines) and nothing else as the formatting lane', async () => {
      const reindented = 'export function add(a: number, b: number): number {\n\n      return a + b;\n}\n';
      const head = branchWith(repo, 'fmt', { 'src/app.ts': reindented });
      const change = await collectChangeFacts(repo.dir, 'main', head);
      expect(change.files).toEqual([expect.objectContaining({ path: 'src/app.ts', whitespaceOnly: true, added: 2, deleted: 1 })]);
      expect((await decideIn(repo, head))).toMatchObject({ lane: 'formatting', tier: 'auto', outcome: 'merge-allowed' });

      const realEdit = branchWith(repo, 'fmt-and-edit', { 'src/app.ts': reindented, 'src/util.ts': 'export const one = 3;\n' });
      const mixed = await decideIn(repo, realEdit);
      expect(mixed.lane).toBeNull();
      expect((await collectChangeFacts(repo.dir, 'main', realEdit)).files.find((f) => f.path === 'src/util.ts')?.whitespaceOnly).toBe(false);
    });
  });

  describe('size, risk and floors', () => {
    it('raises the tier with size and says how many lines to remove', async () => {
      const head = branchWith(repo, 'big', { 'src/big.ts': lines(260) });
      const d = await decideIn(repo, head, { checks: ci(head) });
      expect(d.tier).toBe('standard');
      expect(d.lines).toBe(260);
      expect(d.toLowerTier).toContain('remove 60 lines to get under the light size limit (200 lines)');
    });

    it('takes the tier from the risk estimate when one is given, and lists its top factors', async () => {
      const head = branchWith(repo, 'risky', { 'src/util.ts': 'export const one = 11;\n' });
      const risk = { probability: 0.45, topFactors: [{ feature: 'NDEV', value: 9, contribution: 0.2 }, { feature: 'LA', value: 1, contribution: 0.01 }] };
      const d = await decideIn(repo, head, { risk, checks: ci(head) });
      expect(d.tier).toBe('standard');
      expect(d.toLowerTier.some((h) => h.includes('0.3') && h.includes('NDEV'))).toBe(true);
      expect(formatDecision(d, 'text')).toContain('NDEV = 9 (+0.200)');
      expect((await decideIn(repo, head, { risk: { probability: 0.05, topFactors: [] } }))).toMatchObject({ tier: 'auto', outcome: 'merge-allowed' });
    });

    it('puts a change touching migrations/** in senior and suggests splitting it out', async () => {
      const head = branchWith(repo, 'migration', { 'migrations/001.sql': 'create table t (id int);\n', 'docs/guide.md': '# guide\n\nmigrations\n' }, { author: people.olivia });
      const d = await decideIn(repo, head, { checks: ci(head) });
      expect(d.tier).toBe('senior');
      expect(d.rules.find((r) => r.rule === 'floor:migrations')?.files).toEqual(['migrations/001.sql']);
      expect(d.toLowerTier).toContain('split out migrations/001.sql (floor:migrations)');
      expect(d.outcome).toBe('needs-review');
      // A senior and the code owner of the files (@dev owns * in CODEOWNERS) approve: it may merge.
      const approved = await decideIn(repo, head, { checks: ci(head), approvals: [{ by: 'sam', sha: head }, { by: 'dev', sha: head }, { by: 'dina', sha: head }] });
      expect(approved.outcome).toBe('merge-allowed');
    });
  });

  describe('required checks', () => {
    it('blocks when a required check is missing, failed, pending or ran on another commit', async () => {
      const head = branchWith(repo, 'checks', { 'src/big2.ts': lines(250) }, { author: people.olivia });
      const reasons = async (checks: { name: string; status: string; sha?: string }[]) => await decideIn(repo, head, { checks, approvals: [{ by: 'dev', sha: head }] });
      const missing = await reasons([]);
      expect(missing.outcome).toBe('blocked');
      expect(missing.reasons).toEqual([`required check ci has not reported on ${head.slice(0, 7)}`]);
      expect((await reasons(ci(head, 'failure'))).reasons).toEqual(['required check ci failed']);
      expect((await reasons(ci(head, 'in_progress'))).reasons).toEqual(['required check ci has not finished']);
      expect((await reasons([{ name: 'ci', status: 'success', sha: 'f'.repeat(40) }])).outcome).toBe('blocked');
      expect((await reasons(ci(head))).outcome).toBe('merge-allowed');
    });
  });

  describe('approvals', () => {
    it("never counts an agent's, a bot's, the author's own or the agent owner's approval", async () => {
      const head = branchWith(repo, 'agent-src', { 'src/util.ts': 'export const one = 4;\n' }, { author: people.agent });
      const approvals = [
        { by: 'claude-agent@example.com', sha: head },
        { by: 'claude', sha: head },
        { by: 'dependabot[bot]', sha: head },
        { by: 'olivia', sha: head },
      ];
      const d = await decideIn(repo, head, { approvals });
      expect(d.author).toMatchObject({ kind: 'agent', agent: 'claude' });
      expect(d.approvals.every((a) => !a.counted)).toBe(true);
      expect(d.approvals.map((a) => a.reason)).toEqual([
        'not allowed to approve (agent-never-approves, author-never-approves)',
        'not allowed to approve (agent-never-approves)',
        'not allowed to approve (bot-never-approves)',
        'not allowed to approve (directing-human-never-approves)',
      ]);
      expect(d.outcome).toBe('needs-review');
      expect((await decideIn(repo, head, { approvals: [...approvals, { by: 'bob@example.com', sha: head }] })).outcome).toBe('merge-allowed');

      const own = branchWith(repo, 'own', { 'src/util.ts': 'export const one = 5;\n' });
      const self = await decideIn(repo, own, { approvals: [{ by: 'dev', sha: own }] });
      expect(self.approvals[0]).toMatchObject({ counted: false, reason: 'not allowed to approve (author-never-approves)' });
    });

    it('makes an approval stale only when files in its approver\'s scope changed after it', async () => {
      repo.checkout('main').checkout('scoped', true);
      repo.write('src/api/handler.ts', 'export const handler = () => 2;\n').write('docs/guide.md', '# guide\n\nv1\n');
      const first = repo.commit('api and docs', { author: people.olivia });
      repo.write('docs/guide.md', '# guide\n\nv2\n');
      const second = repo.commit('docs again', { author: people.olivia });
      repo.checkout('main');
      const risk = { probability: 0.4, topFactors: [] };
      const approvals = [
        { by: 'bob', sha: first }, // owns src/api (team backend): docs changes are outside his scope
        { by: 'dina', sha: first }, // owns docs/: stale
        { by: 'eve@example.com', sha: first }, // owns nothing: every file is in scope, so stale
        { by: 'dina', sha: 'deadbeef' }, // unknown sha: cannot be compared
      ];
      const d = await decideIn(repo, second, { risk, approvals, checks: ci(second) });
      expect(d.tier).toBe('standard');
      expect(d.approvals.map((a) => a.counted)).toEqual([true, false, false, false]);
      expect(d.approvals[1]?.reason).toBe(`stale: docs/guide.md changed after ${first.slice(0, 7)}`);
      const owners = d.requirements.filter((r) => r.id.startsWith('code-owners:'));
      expect(Object.fromEntries(owners.map((r) => [r.id, r.met]))).toEqual({ 'code-owners:@org/backend': true, 'code-owners:@dina': false });
      expect(d.outcome).toBe('needs-review');
      const fresh = await decideIn(repo, second, { risk, checks: ci(second), approvals: [{ by: 'bob', sha: first }, { by: 'dina', sha: second }] });
      expect(fresh.outcome).toBe('merge-allowed');
    });
  });

  describe('protected paths and the base policy', () => {
    it('judges a change that loosens .flowgate.yml by the base policy and puts it in senior', async () => {
      const loosened = `
protected: []
rules: { floors: [] }
tiers:
  senior: { approvals: { count: 0, codeOwners: false }, checks: [] }
  unscored: auto
agents:
  - { id: claude, owner: olivia, tool: claude-code, accounts: ["claude-agent@example.com"], maxTier: senior }
`;
      const head = branchWith(repo, 'loosen', { '.flowgate.yml': loosened, 'migrations/002.sql': 'drop table t;\n' });
      const d = await decideIn(repo, head);
      expect(d.policySource).toBe('.flowgate.yml at main');
      expect(d.tier).toBe('senior');
      expect(d.rules.map((r) => r.rule)).toEqual(expect.arrayContaining(['protected', 'floor:migrations']));
      expect(d.outcome).toBe('blocked');
      expect(d.reasons).toEqual([`required check ci has not reported on ${head.slice(0, 7)}`]);
      expect(d.requirements.map((r) => r.id)).toEqual(expect.arrayContaining(['count', 'human-owner:@dev']));
      // Judged by its own head policy it would have been let through: the guarantee is reading the base.
      const byHead = decideChange({ policy: loadPolicyAt(repo.dir, head), change: await collectChangeFacts(repo.dir, 'main', head), risk: null, approvals: [], checks: [], trust: null });
      expect(byHead.rules.map((r) => r.rule)).not.toContain('floor:migrations');
    });

    it('never lets CI configuration through the auto lane, whoever wrote it', async () => {
      const head = branchWith(repo, 'ci-config', { '.github/workflows/ci.yml': 'on: push\n' });
      const d = await decideIn(repo, head, { risk: { probability: 0.01, topFactors: [] }, checks: ci(head) });
      expect(d.tier).toBe('senior');
      expect(d.requirements.find((r) => r.id.startsWith('human-owner'))?.met).toBe(false);
    });
  });

  describe('attacks that try to route around the gate', () => {
    it('never lets a move or deletion of the policy file through a lane', async () => {
      const moved = branchWith(repo, 'policy-to-docs', { '.flowgate.yml': null, 'docs/old-policy.md': basePolicy });
      expect((await collectChangeFacts(repo.dir, 'main', moved)).files).toEqual([expect.objectContaining({ status: 'R', path: 'docs/old-policy.md', oldPath: '.flowgate.yml' })]);
      const d = await decideIn(repo, moved);
      expect(d).toMatchObject({ tier: 'senior', lane: null });
      // The old path counts: the policy file leaving its place is a change to the policy.
      expect(d.rules.find((r) => r.rule === 'protected')?.files).toEqual(['.flowgate.yml']);
      const deleted = await decideIn(repo, branchWith(repo, 'policy-gone', { '.flowgate.yml': null }));
      expect(deleted.tier).toBe('senior');
      expect(deleted.rules.map((r) => r.rule)).toContain('protected');
    });

    it("judges ownership by the base's CODEOWNERS, not one the change rewrites", async () => {
      const head = branchWith(repo, 'owners-grab', { '.github/CODEOWNERS': '* @eve\n', 'src/api/handler.ts': 'export const handler = () => 3;\n' }, { author: people.olivia });
      const d = await decideIn(repo, head, { checks: ci(head), approvals: [{ by: 'eve', sha: head }, { by: 'sam', sha: head }] });
      expect(d.tier).toBe('senior');
      const met = Object.fromEntries(d.requirements.map((r) => [r.id, r.met]));
      // Under the head's CODEOWNERS eve would own everything; under the base's she owns nothing.
      expect(met).toMatchObject({ 'code-owners:@org/backend': false, 'human-owner:@dev': false });
      expect(d.outcome).toBe('needs-review');
      expect((await decideIn(repo, head, { checks: ci(head), approvals: [{ by: 'sam', sha: head }, { by: 'bob', sha: head }, { by: 'dev', sha: head }] })).outcome).toBe('merge-allowed');
    });

    it('blocks an agent that moves a file out of a forbidden path, even with approvals', async () => {
      repo.checkout('main').checkout('with-secret', true);
      repo.write('src/secrets/key.ts', 'export const key = "k";\n').commit('add a secret', { author: people.dev });
      repo.checkout('agent-move-secret', true);
      repo.move('src/secrets/key.ts', 'src/key.ts');
      const head = repo.commit('move the key', { author: people.agent });
      repo.checkout('main');
      const d = await decideIn(repo, head, { base: 'with-secret', checks: ci(head), approvals: [{ by: 'bob', sha: head }, { by: 'sam', sha: head }, { by: 'dev', sha: head }] });
      expect(d.outcome).toBe('blocked');
      expect(d.violations).toEqual([expect.objectContaining({ rule: 'agent-forbidden-path', files: ['src/secrets/key.ts'] })]);
    });

    it('does not put a code file renamed into docs/ in the docs lane', async () => {
      const head = branchWith(repo, 'code-to-docs', { 'src/util.ts': null, 'docs/util.ts': 'export const one = 1;\n' });
      expect((await collectChangeFacts(repo.dir, 'main', head)).files).toEqual([expect.objectContaining({ status: 'R', oldPath: 'src/util.ts' })]);
      expect((await decideIn(repo, head)).lane).toBeNull();
    });
  });

  describe('agent authority (Cedar)', () => {
    it('blocks an agent touching a forbidden path even with every approval', async () => {
      const head = branchWith(repo, 'agent-secret', { 'src/secrets/key.ts': 'export const key = "x";\n' }, { author: people.agent });
      const d = await decideIn(repo, head, { checks: ci(head), approvals: [{ by: 'bob', sha: head }, { by: 'sam', sha: head }, { by: 'dev', sha: head }] });
      expect(d.outcome).toBe('blocked');
      expect(d.violations.map((v) => v.rule)).toEqual(['agent-forbidden-path']);
      expect(d.reasons).toEqual(['agent claude may not change src/secrets/key.ts']);
    });

    it('blocks an agent outside its allowed paths, above its tier or over its size', async () => {
      const outside = await decideIn(repo, branchWith(repo, 'agent-infra', { 'infra/main.tf': 'x = 1\n' }, { author: people.agent }));
      expect(outside.violations.map((v) => v.rule)).toEqual(['agent-outside-allowed']);
      const tooRisky = branchWith(repo, 'agent-risky', { 'src/util.ts': 'export const one = 6;\n' }, { author: people.agent });
      expect((await decideIn(repo, tooRisky, { risk: { probability: 0.9, topFactors: [] } })).violations.map((v) => v.rule)).toEqual(['agent-max-tier']);
      const tooBig = await decideIn(repo, branchWith(repo, 'agent-big', { 'src/gen.ts': lines(320) }, { author: people.agent }));
      expect(tooBig.violations.map((v) => v.rule)).toEqual(['agent-max-lines']);
      expect(tooBig.reasons).toContain('agent claude may change 300 lines at most; this change has 320');
    });

    it('recognises an agent by its provenance tool (Claude-Session trailer) even under a human e-mail', async () => {
      const message = 'Add secret\n\nClaude-Session: https://claude.ai/code/session_abc123\n';
      const head = branchWith(repo, 'session', { 'src/secrets/token.ts': 'export const t = 1;\n' }, { message });
      const d = await decideIn(repo, head);
      expect(d.provenance).toEqual({ class: 'agent', tool: 'claude-code' });
      expect(d.author).toMatchObject({ kind: 'agent', agent: 'claude' });
      expect(d.outcome).toBe('blocked');
    });
  });

  describe('trust', () => {
    const clean = (n: number, from: number): TrustRecord[] => Array.from({ length: n }, (_, i) => ({ lane: 'auto', defectInducing: false, reverted: false, time: from + i }));
    const escape = (time: number): TrustRecord => ({ lane: 'auto', defectInducing: true, reverted: false, time });

    it('takes the auto lane from an agent after its escapes and gives it back after clean changes', async () => {
      const head = branchWith(repo, 'agent-docs', { 'docs/guide.md': '# guide\n\nby the agent\n' }, { author: people.agent });
      const policy = loadPolicyAt(repo.dir, 'main');
      const lost = computeTrust([...clean(3, 0), escape(10), escape(11)], policy);
      const d = await decideIn(repo, head, { trust: lost });
      expect(d).toMatchObject({ tier: 'light', outcome: 'needs-review' });
      expect(d.rules.find((r) => r.rule === 'trust')?.detail).toContain('suspended');
      expect(d.toLowerTier).toContain('agent claude earns the auto lane back after 20 more clean changes');

      const regained = computeTrust([...clean(3, 0), escape(10), escape(11), ...clean(20, 20)], policy);
      expect((await decideIn(repo, head, { trust: regained }))).toMatchObject({ tier: 'auto', lane: 'docs', outcome: 'merge-allowed' });
    });
  });
});

describe('policy variants', () => {
  it('applies provenance floors, team approvals and automation authors', async () => {
    const repo = gateRepo(`${basePolicy}
rules:
  provenance: { automation: standard }
`.replace('tiers:\n  standard:\n    checks: [ci]', 'tiers:\n  standard:\n    approvals: { count: 1, from: [backend] }'));
    try {
      const head = branchWith(repo, 'bump', { 'package-lock.json': '{ "lockfileVersion": 3, "bumped": true }\n' }, { author: { name: 'dependabot[bot]', email: '49699333+dependabot[bot]@users.noreply.github.com' } });
      const d = await decideIn(repo, head, { approvals: [{ by: 'sam', sha: head }] });
      expect(d.author.kind).toBe('automation');
      expect(d.tier).toBe('standard');
      expect(d.rules.map((r) => r.rule)).toEqual(['lane:lockfile', 'provenance:automation']);
      expect(d.requirements.find((r) => r.id === 'count')).toMatchObject({ met: false, description: '1 approval from team backend' });
      // carol is in team backend; dev owns every file (CODEOWNERS `*`), which standard also requires.
      expect((await decideIn(repo, head, { approvals: [{ by: 'carol@example.com', sha: head }, { by: 'dev', sha: head }] })).outcome).toBe('merge-allowed');
    } finally {
      repo.dispose();
    }
  });

  it('formats a decision as text, JSON and a Markdown PR comment', async () => {
    const repo = gateRepo();
    try {
      const head = branchWith(repo, 'mixed', { 'docs/guide.md': '# g\n', 'src/a_b.ts': 'export const x = 1;\n' });
      const d = await decideIn(repo, head);
      expect(JSON.parse(formatDecision(d, 'json'))).toEqual(d);
      const md = formatDecision(d, 'markdown');
      expect(md).toMatch(/^### 👀 flowgate: needs review: tier light/);
      expect(md).toContain('- [ ] 1 approval from any human reviewer but the author');
      expect(md).toContain('src/a\\_b.ts');
      const text = formatDecision(d, 'text');
      expect(text).toMatch(/^flowgate: needs review: tier light\n/);
      expect(text).toContain('\n  split out src/a_b.ts to qualify for the docs lane (auto)\n');
    } finally {
      repo.dispose();
    }
  });
});
