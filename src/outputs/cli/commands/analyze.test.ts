import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RepoBuilder } from '../../../sources/git/__fixtures__/repo-builder.ts';

const cli = resolve(import.meta.dirname, '../../../../bin/flowgate.js');

function flowgate(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe('flowgate analyze and changes', () => {
  let repo: RepoBuilder;
  let dir: string;
  let db: string;
  beforeAll(() => {
    repo = new RepoBuilder();
    dir = mkdtempSync(join(tmpdir(), 'flowgate-cli-'));
    db = join(dir, 'store.db');
    repo.write(
      '.flowgate.yml',
      'identities:\n  aliases:\n    - canonical: "Eve Doe <eve@corp.example>"\n      emails: [eve@home.example]\n',
    );
    repo.commit('Add config', { author: { name: 'Eve', email: 'eve@home.example' }, time: 1_650_000_000 });
    repo.write('a.ts', 'export const a = 1;\n');
    repo.commit('Add a\n\nCo-Authored-By: Claude Sonnet 4.5 <noreply@anthropic.com>', {
      author: { name: 'Eve Doe', email: 'eve@corp.example' },
      time: 1_700_000_000,
    });
    repo.write('b.ts', 'export const b = 1;\n');
    repo.commit('Add b: Copilot integration notes, written by hand', { author: { name: 'Claude Dupont', email: 'claude@dupont.example' }, time: 1_710_000_000 });
  });
  afterAll(() => {
    repo.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the documented JSON summary and leaves the work tree clean', () => {
    const run = flowgate(['analyze', repo.dir, '--db', db, '--json', '--no-report']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const summary = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      changes: 3,
      added: 3,
      removed: 0,
      byProvenance: { human: 2, 'ai-assisted': 1, agent: 0, automation: 0 },
      byTool: { 'claude-code': 1 },
    });
    expect(repo.git('status', '--porcelain')).toBe('');
  });

  it('lists changes with filters and resolves config aliases to one identity', () => {
    const ai = JSON.parse(flowgate(['changes', repo.dir, '--db', db, '--provenance', 'ai-assisted', '--json']).stdout) as { subject: string; tool: string }[];
    expect(ai.map((c) => [c.subject, c.tool])).toEqual([['Add a', 'claude-code']]);
    const since = JSON.parse(flowgate(['changes', repo.dir, '--db', db, '--since', '2023-06-01', '--json']).stdout) as unknown[];
    expect(since).toHaveLength(2);
    const until = JSON.parse(flowgate(['changes', repo.dir, '--db', db, '--until', '2023-06-01', '--json']).stdout) as unknown[];
    expect(until).toHaveLength(1);
    const table = flowgate(['changes', repo.dir, '--db', db, '--tool', 'claude-code']);
    expect(table.stdout).toMatch(/Add a/);
    expect(table.stdout).not.toMatch(/Add b/);
    const authors = JSON.parse(flowgate(['changes', repo.dir, '--db', db, '--json']).stdout) as { author: { email: string } }[];
    expect(authors).toHaveLength(3);
  });

  it('exits with documented statuses and one-line messages on bad input', () => {
    const bad = flowgate(['changes', repo.dir, '--db', db, '--provenance', 'robot']);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toMatch(/--provenance must be one of human, ai-assisted, agent, automation/);
    const notRepo = flowgate(['analyze', dir, '--db', db]);
    expect(notRepo.status).toBe(66);
    expect(notRepo.stderr).toMatch(/not a git repository.*\[NOT_A_REPOSITORY\]/);
    const unknown = flowgate(['changes', dir, '--db', join(dir, 'other.db')]);
    expect(unknown.status).toBe(66);
  });
});
