import { realpathSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readConfigAt } from '../../core/config.ts';
import { runAnalysis } from '../../analyses/run.ts';
import { scoreChange } from '../../analyses/labels/model.ts';
import { labelsStep } from '../../analyses/labels/step.ts';
import { fitRiskModel, serializeModel } from '../../analyses/risk/learner.ts';
import type { FeatureRow } from '../../analyses/risk/types.ts';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { loadPolicy, type Policy } from '../policy/policy.ts';
import { authorIdOf, storedGateInputs, storedRisk, storedTrust, type StoredInputsChange } from './stored-inputs.ts';

const dev = { name: 'Dev', email: 'dev@example.com' };
const agent = { name: 'Claude Agent', email: 'claude-agent@example.com' };

const policyText = `
agents:
  - id: claude
    accounts: ["claude-agent@example.com"]
    owner: dev@example.com
trust:
  maxEscapes: 1
  regainAfter: 2
  escapeLanes: [auto, light]
`;

/**
 * The agent's record: a docs change (auto lane) that a human reverts (an escape: the agent loses
 * the auto lane), two clean docs changes (through light, since it was suspended: it earns the auto
 * lane back), then a code change that a later fix shows defect-inducing.
 */
function agentHistory(): { repo: RepoBuilder; shas: Record<'init' | 'escaped' | 'revert' | 'clean1' | 'clean2' | 'defect' | 'fix', string> } {
  const repo = new RepoBuilder();
  repo.write('.flowgate.yml', policyText).write('src/util.ts', 'export const one = 1;\nexport const two = 2;\n').write('docs/guide.md', '# guide\n');
  const init = repo.commit('Initial', { author: dev });
  repo.write('docs/a.md', '# a\n');
  const escaped = repo.commit('Document a', { author: agent });
  repo.remove('docs/a.md');
  const revert = repo.commit(`Revert "Document a"\n\nThis reverts commit ${escaped}.`, { author: dev });
  repo.write('docs/b.md', '# b\n');
  const clean1 = repo.commit('Document b', { author: agent });
  repo.write('docs/c.md', '# c\n');
  const clean2 = repo.commit('Document c', { author: agent });
  repo.write('src/util.ts', 'export const one = 11;\nexport const two = 2;\n');
  const defect = repo.commit('Change one', { author: agent });
  repo.write('src/util.ts', 'export const one = 1;\nexport const two = 2;\n');
  const fix = repo.commit('Fix one: it must stay 1', { author: dev });
  return { repo, shas: { init, escaped, revert, clean1, clean2, defect, fix } };
}

/** A proposed change as the service would describe one: files, author, provenance, time. */
function proposed(author: { name: string; email: string }, files: StoredInputsChange['files'], time = 2_000_000_000): StoredInputsChange {
  return { files, author: { ...author, login: null }, provenance: { class: 'human', tool: null }, time, title: 'Proposed change' };
}

describe.each(storeKinds)('risk and trust from the store on %s', (kind) => {
  let built: ReturnType<typeof agentHistory>;
  let policy: Policy;
  let key: string;
  let store: TestStore | undefined;
  beforeAll(() => {
    built = agentHistory();
    key = realpathSync(built.repo.dir);
    policy = loadPolicy(readConfigAt(built.repo.dir, 'HEAD'));
  });
  afterAll(() => built.repo.dispose());
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  /** Mines the repository and runs the labels step (fixes, SZZ, features, model), as `flowgate analyze` does. */
  async function analyzed(): Promise<{ store: TestStore; repoId: number }> {
    store = await openTestStore(kind);
    const { mined, config } = await runAnalysis(store, built.repo.dir, { mineOnly: true });
    await labelsStep.run({ store, repoId: mined.repoId, repoPath: built.repo.dir, config, progress: () => undefined });
    return { store, repoId: mined.repoId };
  }

  it('says the repository was never analyzed and gives no risk or trust, so the gate decides by rules alone', async () => {
    store = await openTestStore(kind);
    const inputs = await storedGateInputs(store.db, key, policy, proposed(agent, [{ path: 'docs/d.md', oldPath: null, status: 'A', added: 1, deleted: 0 }]));
    expect(inputs).toMatchObject({ repoId: null, risk: null, trust: null, agent: null });
    expect(inputs.notes).toEqual([expect.stringContaining(`${key} was never analyzed into this store`)]);
  });

  it('finds the author by the e-mail a change was written with, the identity\'s own e-mail or GitHub login, in any case', async () => {
    const { store: s, repoId } = await analyzed();
    const devId = (await s.db.selectFrom('changes').select('author_id').where('author_email', '=', dev.email).executeTakeFirstOrThrow()).author_id;
    // The identity's canonical e-mail and login now differ from the e-mail the commits carry.
    await s.db.updateTable('identities').set({ email: 'dev.canonical@example.com', github_login: 'DevGH' }).where('id', '=', devId).execute();
    const find = (email: string, login: string | null) => authorIdOf(s.db, repoId, { name: 'x', email, login });
    expect(await find('Dev@Example.com', null)).toBe(devId);
    expect(await find('DEV.canonical@example.com', null)).toBe(devId);
    expect(await find('', '@devgh')).toBe(devId);
    expect(await find('someone@example.com', 'nobody')).toBe(-1);
    expect(await find('', null)).toBe(-1);
  });

  it("scores a proposed change with the default model and its top factors, higher for a bigger change", async () => {
    const { store: s, repoId } = await analyzed();
    const small = await storedRisk(s.db, repoId, proposed(dev, [{ path: 'src/util.ts', oldPath: null, status: 'M', added: 1, deleted: 1 }]));
    const large = await storedRisk(
      s.db,
      repoId,
      proposed(dev, Array.from({ length: 12 }, (_, i) => ({ path: `src/mod${i}/file.ts`, oldPath: null, status: 'A', added: 400, deleted: 0 }))),
    );
    expect(small.source).toBe('default-model');
    expect(small.modelId).toBeUndefined();
    expect(large.probability).toBeGreaterThan(small.probability);
    expect(large.topFactors).toHaveLength(5);
    expect(large.topFactors.map((f) => f.feature)).toContain('la');
    const magnitudes = large.topFactors.map((f) => Math.abs(f.contribution));
    expect(magnitudes).toEqual([...magnitudes].sort((a, b) => b - a));
  });

  it("uses the repository's own trained model when the store has one", async () => {
    const { store: s, repoId } = await analyzed();
    // A model where only the lines added matter, stored the way training stores one.
    const rows: FeatureRow[] = Array.from({ length: 300 }, (_, i) => {
      const la = (i * 37) % 500;
      return { id: `c${i}`, time: 1_600_000_000 + i * 3600, label: la > 350 || i % 29 === 0 ? 1 : 0, churn: la, features: { la, nf: 1 + (i % 3), ld: i % 7 } };
    });
    const model = fitRiskModel(rows, { halfLifeMonths: null, blendWeights: [0], boostedLogistic: false });
    const inserted = await s.db
      .insertInto('models')
      .values({ repo_id: repoId, trained_at: 1_700_000_000, cutoff: 1_700_000_000, model: serializeModel(model), metrics: '{}' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const file = (added: number): StoredInputsChange['files'] => [{ path: 'src/util.ts', oldPath: null, status: 'M', added, deleted: 0 }];
    const low = await storedRisk(s.db, repoId, proposed(dev, file(5)));
    const high = await storedRisk(s.db, repoId, proposed(dev, file(480)));
    expect(low).toMatchObject({ source: 'repository-model', modelId: inserted.id });
    expect(high.probability).toBeGreaterThan(low.probability);
    const inputs = await storedGateInputs(s.db, key, policy, proposed(dev, file(480)));
    expect(inputs.notes[0]).toBe(`risk from the repository's own model (model ${inserted.id}) in the store`);
  });

  it("computes the agent's trust from its stored record: lanes replayed under the policy, reverts and SZZ defects", async () => {
    const { store: s, repoId } = await analyzed();
    const change = proposed(agent, [{ path: 'docs/d.md', oldPath: null, status: 'A', added: 1, deleted: 0 }]);
    const trusted = await storedTrust(s.db, repoId, policy, change);
    expect(trusted).toMatchObject({ agent: 'claude', changes: 4, recorded: 0 });
    // escaped went through auto and was reverted: suspended; clean1 and clean2 went through light and
    // earned the auto lane back; defect (a code change the default model puts in light) was
    // defect-inducing (SZZ from the fix): a second escape, suspended again.
    expect(trusted?.trust).toMatchObject({ reverts: 1, escapes: 2, level: 'suspended', autoLane: false, toEarnAutoLane: 2, changesByLane: { auto: 1, light: 3 } });
    expect(trusted?.trust.events.map((e) => e.level)).toEqual(['suspended', 'trusted', 'suspended']);
    // The revert labels the change it reverts defect-inducing too.
    expect(trusted?.trust.defects).toBe(2);
    const inputs = await storedGateInputs(s.db, key, policy, change);
    expect(inputs.trust).toEqual(trusted?.trust);
    expect(inputs.notes[1]).toBe('trust of agent claude from its 4 earlier changes in the store (0 with a recorded gate decision, the others judged by this policy)');
    // A human's change has no agent record.
    expect(await storedTrust(s.db, repoId, policy, proposed(dev, change.files))).toBeNull();
  });

  it('takes the lane from a recorded gate decision over what the policy would give', async () => {
    const { store: s, repoId } = await analyzed();
    const change = proposed(agent, [{ path: 'docs/d.md', oldPath: null, status: 'A', added: 1, deleted: 0 }]);
    // Recorded: the escaped change went through standard (not an escape lane), the defect through light.
    for (const [subject, tier] of [[built.shas.escaped, 'standard'], [`acme/repo#7@${built.shas.defect}`, 'light']] as const) {
      await s.db.insertInto('decisions').values({ repo_id: repoId, subject, outcome: 'merge-allowed', tier, decision: '{}', created_at: 1 }).execute();
    }
    const trusted = await storedTrust(s.db, repoId, policy, change);
    expect(trusted).toMatchObject({ changes: 4, recorded: 2 });
    // Not suspended by the revert: clean1 and clean2 went through auto; the defect in light is the one escape.
    expect(trusted?.trust).toMatchObject({ changesByLane: { auto: 2, light: 1, standard: 1 }, escapes: 1, level: 'suspended', toEarnAutoLane: 2 });
  });

  it('explains a landed change with its stored features and only the record before it', async () => {
    const { store: s, repoId } = await analyzed();
    const stored = await s.db.selectFrom('changes').select(['id', 'commit_time']).where('sha', '=', built.shas.clean2).executeTakeFirstOrThrow();
    const features = JSON.parse((await s.db.selectFrom('change_features').select('features').where('change_id', '=', stored.id).executeTakeFirstOrThrow()).features) as Record<string, number>;
    const landed: StoredInputsChange = { ...proposed(agent, [{ path: 'docs/c.md', oldPath: null, status: 'A', added: 1, deleted: 0 }], stored.commit_time), sha: built.shas.clean2 };
    const trusted = await storedTrust(s.db, repoId, policy, landed);
    // Before clean2: escaped (reverted, auto) and clean1 (light): still suspended, one more clean change to go.
    expect(trusted).toMatchObject({ changes: 2, trust: { level: 'suspended', toEarnAutoLane: 1, changesByLane: { auto: 1, light: 1 } } });
    // Its own stored features, not features recomputed as if it landed again after the whole history.
    const risk = await storedRisk(s.db, repoId, landed);
    expect(risk.probability).toBe((await scoreChange(s, repoId, features)).probability);
    const again = await storedRisk(s.db, repoId, { ...landed, sha: null });
    expect(again.probability).not.toBe(risk.probability);
  });
});
