import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import { loadPolicy } from '../policy/policy.ts';
import { agentEntity, authorizeAgentMerge, authorizeApproval } from './authority.ts';

const policy = loadPolicy(
  parseConfig(
    `agents:
  - { id: coder, owner: alice, allow: ["src/**"], deny: ["src/auth/**"], maxTier: light, maxLines: 100, maxFiles: 3 }
  - { id: free, owner: bob }
`,
    'test.yml',
  ),
);
const [coder, free] = policy.agents;

describe('agent authority evaluated by Cedar', () => {
  it('turns the agent config into a Cedar entity with its limits', () => {
    expect(agentEntity(coder!)).toEqual({ uid: { type: 'Flowgate::Agent', id: 'coder' }, attrs: { owner: 'alice', maxTierRank: 1, maxLines: 100, maxFiles: 3 }, parents: [] });
  });

  it('permits a change inside every limit', () => {
    expect(authorizeAgentMerge(coder!, { change: 'c1', tier: 'light', lines: 100, files: ['src/a.ts', 'src/b.ts'] })).toEqual({ allowed: true, violations: [] });
  });

  it('denies each limit on its own, naming the rule and the files', () => {
    const deny = (facts: Parameters<typeof authorizeAgentMerge>[1]) => authorizeAgentMerge(coder!, facts).violations.map((v) => [v.rule, v.files]);
    expect(deny({ change: 'c', tier: 'light', lines: 1, files: ['src/auth/login.ts'] })).toEqual([['agent-forbidden-path', ['src/auth/login.ts']]]);
    expect(deny({ change: 'c', tier: 'light', lines: 1, files: ['lib/x.ts'] })).toEqual([['agent-outside-allowed', ['lib/x.ts']]]);
    expect(deny({ change: 'c', tier: 'standard', lines: 1, files: ['src/a.ts'] })).toEqual([['agent-max-tier', []]]);
    expect(deny({ change: 'c', tier: 'light', lines: 101, files: ['src/a.ts'] })).toEqual([['agent-max-lines', []]]);
    expect(deny({ change: 'c', tier: 'light', lines: 1, files: ['src/a', 'src/b', 'src/c', 'src/d'] })).toEqual([['agent-max-files', []]]);
  });

  it('applies no size limit the policy does not set, but still the default maxTier (standard)', () => {
    expect(authorizeAgentMerge(free!, { change: 'c', tier: 'standard', lines: 100_000, files: ['anything/at/all'] }).allowed).toBe(true);
    expect(authorizeAgentMerge(free!, { change: 'c', tier: 'senior', lines: 1, files: ['x'] }).violations.map((v) => v.rule)).toEqual(['agent-max-tier']);
  });

  it('lets only humans approve, never the author nor the human directing the authoring agent', () => {
    const approve = (kind: 'human' | 'agent' | 'automation', isAuthor = false, directsAuthor = false) => authorizeApproval('c', { kind, id: 'x', isAuthor, directsAuthor });
    expect(approve('human')).toEqual({ allowed: true, rules: [] });
    expect(approve('agent')).toEqual({ allowed: false, rules: ['agent-never-approves'] });
    expect(approve('automation')).toEqual({ allowed: false, rules: ['bot-never-approves'] });
    expect(approve('human', true)).toEqual({ allowed: false, rules: ['author-never-approves'] });
    expect(approve('human', false, true)).toEqual({ allowed: false, rules: ['directing-human-never-approves'] });
  });
});
