import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, defaultConfig, parseConfig } from '../../core/config.ts';
import { isFlowgateError } from '../../core/errors.ts';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { builtinProtectedPaths, expandKeys, loadPolicy, loadPolicyAt } from './policy.ts';
import { starterPolicy, writeStarterPolicy } from './starter.ts';

const policyOf = (yaml: string) => loadPolicy(parseConfig(yaml, 'test.yml'), 'test.yml');

describe('policy sections of .flowgate.yml', () => {
  it('parses an empty file into a complete policy', () => {
    const policy = loadPolicy(defaultConfig());
    expect(policy.tiers.auto).toMatchObject({ maxRisk: 0.1, maxLines: 50, approvals: { count: 0 } });
    expect(policy.tiers.senior.approvals).toEqual({ count: 1, from: ['seniors'], codeOwners: true });
    expect(policy.lanes.map((l) => [l.name, l.rule.tier])).toEqual([['docs', 'auto'], ['tests', 'light'], ['lockfile', 'light'], ['formatting', 'auto']]);
    expect(policy.floors[0]?.match('db/migrations/001.sql')).toBe(true);
    expect(policy.isProtected('.github/workflows/ci.yml')).toBe(true);
    expect(policy.warnings).toEqual([expect.stringContaining('`seniors` is empty')]);
  });

  it('keeps the other defaults of a tier when one field is overridden', () => {
    const policy = policyOf('tiers:\n  auto: { maxLines: 30 }\n  senior:\n    approvals: { count: 2 }\n');
    expect(policy.tiers.auto).toMatchObject({ maxLines: 30, maxRisk: 0.1 });
    expect(policy.tiers.senior.approvals).toEqual({ count: 2, from: ['seniors'], codeOwners: true });
  });

  it('rejects misspelt keys, unknown teams, duplicate agents and shrinking limits with CONFIG_INVALID', () => {
    const cases: [string, RegExp][] = [
      ['tiers:\n  auto: { maxLine: 30 }\n', /maxLine/],
      ['tiers:\n  light: { approvals: { from: [frontend] } }\n', /"frontend", which is neither `seniors` nor a team/],
      ['agents:\n  - { id: a, owner: x }\n  - { id: a, owner: y }\n', /agent id "a" appears twice/],
      ['tiers:\n  light: { maxLines: 20 }\n', /tiers.light.maxLines \(20\) is below tiers.auto.maxLines \(50\)/],
      ['agents:\n  - { id: a }\n', /owner/],
    ];
    for (const [yaml, message] of cases) {
      let error: unknown;
      try {
        policyOf(yaml);
      } catch (e) {
        error = e;
      }
      expect(isFlowgateError(error, 'CONFIG_INVALID'), yaml).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('keeps the built-in protected paths when the file adds its own', () => {
    const policy = policyOf('protected: ["infra/**"]\n');
    expect(policy.protectedPaths).toEqual([...builtinProtectedPaths, 'infra/**']);
    expect(policy.isProtected('infra/prod.tf') && policy.isProtected('.flowgate.yml') && policy.isProtected('CODEOWNERS')).toBe(true);
  });

  it('expands identities through identities.aliases', () => {
    const policy = policyOf('identities:\n  aliases:\n    - { canonical: "Ann <ann@example.com>", github: ann-gh, emails: [ann@old.example] }\n');
    expect([...expandKeys(policy, ['@Ann-GH'])].sort()).toEqual(['ann <ann@example.com>', 'ann-gh', 'ann@example.com', 'ann@old.example']);
  });

  it('reads the policy from a revision, not from the work tree', () => {
    const repo = new RepoBuilder();
    try {
      repo.write('.flowgate.yml', 'seniors: [sam]\n').commit('policy');
      repo.write('.flowgate.yml', 'seniors: [mallory]\n');
      expect([...loadPolicyAt(repo.dir, 'HEAD').seniors]).toEqual(['sam']);
    } finally {
      repo.dispose();
    }
  });
});

describe('flowgate init starter', () => {
  it('writes a commented starter that parses to the defaults, and refuses to overwrite without force', () => {
    const repo = new RepoBuilder();
    try {
      repo.write('sub/x.txt', 'x').commit('init');
      const file = writeStarterPolicy(join(repo.dir, 'sub'));
      expect(file).toBe(join(repo.dir, '.flowgate.yml'));
      expect(readFileSync(file, 'utf8')).toBe(starterPolicy);
      expect(parseConfig(starterPolicy, 'starter')).toEqual(defaultConfig());
      expect(() => writeStarterPolicy(repo.dir)).toThrow(/already exists.*--force/);
      expect(writeStarterPolicy(repo.dir, true)).toBe(file);
    } finally {
      repo.dispose();
    }
  });
});

describe('schema/flowgate.schema.json', () => {
  it('is the JSON Schema generated from the config schema (regenerate: ./bin/flowgate.js policy schema > schema/flowgate.schema.json)', () => {
    const committed: unknown = JSON.parse(readFileSync(new URL('../../../schema/flowgate.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(configJsonSchema());
  });
});
