import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RepoBuilder, type Signature } from '../../sources/git/__fixtures__/repo-builder.ts';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { seedStoreFromRepo } from './__fixtures__/seed-store.ts';
import { parseCodeOwners } from './codeowners.ts';
import { reviewHistoryFrom } from './history.ts';
import { selectReviewers, type SelectionInput } from './select.ts';

const T0 = 1_700_000_000;
const day = (d: number): number => T0 + d * 86_400;
const who = (name: string): Signature => ({ name, email: `${name.toLowerCase().replace(/\[bot\]/, '-bot')}@example.com` });
const alice = who('Alice');
const dave = who('Dave');
const bob = who('Bob');
const carol = who('Carol');
const erin = who('Erin');
const gina = who('Gina');
const hugo = who('Hugo');
const mallory = who('Mallory');
const renovate: Signature = { name: 'renovate[bot]', email: '29139614+renovate[bot]@users.noreply.github.com' };
const now = day(230);

const lines = (prefix: string, n: number, indent = '  '): string[] => Array.from({ length: n }, (_, i) => `${indent}const ${prefix}${i} = ${i};`);

let repo: RepoBuilder;
let bobFormat = '';
let hugoCodemod = '';

/**
 * Alice writes src/a.ts over six changes, Dave adds to it twice; Carol (departed) owns src/c.ts;
 * Erin alone writes src/d.ts (a silo); Gina's last change is 230 days old; a bot edits src/a.ts;
 * Mallory merges Dave's branch; Bob reindents every file; Hugo's codemod is in .git-blame-ignore-revs.
 */
function buildRepo(): void {
  repo = new RepoBuilder();
  const files: Record<string, string[]> = {};
  const put = (path: string, content: string[]): void => {
    files[path] = content;
    repo.write(path, content.join('\n') + '\n');
  };
  put('src/g.ts', lines('g', 10));
  repo.commit('g', { author: gina, time: day(0) });
  for (let i = 0; i < 6; i++) {
    put('src/a.ts', [...(files['src/a.ts'] ?? []), ...lines(`a${i}_`, 5)]);
    repo.commit(`a ${i}`, { author: alice, time: day(200 + i) });
  }
  for (let i = 0; i < 2; i++) {
    put('src/a.ts', [...(files['src/a.ts'] ?? []), ...lines(`d${i}_`, 3)]);
    put('src/b.ts', [...(files['src/b.ts'] ?? []), ...lines(`b${i}_`, 4)]);
    repo.commit(`dave ${i}`, { author: dave, time: day(206 + i) });
  }
  put('src/c.ts', lines('c', 20));
  repo.commit('c', { author: carol, time: day(208) });
  put('src/c.ts', [...(files['src/c.ts'] ?? []), ...lines('cc', 5)]);
  repo.commit('c more', { author: carol, time: day(209) });
  put('src/d.ts', lines('e', 15));
  repo.commit('d', { author: erin, time: day(210) });
  put('src/d.ts', [...(files['src/d.ts'] ?? []), ...lines('ee', 5)]);
  repo.commit('d more', { author: erin, time: day(211) });
  for (let i = 0; i < 3; i++) {
    const a = [...(files['src/a.ts'] ?? [])];
    a[i] = `  const a0_${i} = ${100 + i};`;
    put('src/a.ts', a);
    repo.commit(`chore(deps): bump ${i}`, { author: renovate, time: day(212 + i) });
  }
  repo.checkout('feature', true);
  put('src/b.ts', [...(files['src/b.ts'] ?? []), ...lines('bf', 4)]);
  repo.commit('feature b', { author: dave, time: day(215) });
  repo.checkout('main');
  repo.merge('feature', 'Merge pull request #7 from acme/feature', { author: mallory, time: day(216) });
  for (const path of Object.keys(files)) put(path, (files[path] ?? []).map((line) => `  ${line}`));
  bobFormat = repo.commit('style: reindent everything', { author: bob, time: day(220) });
  for (const path of ['src/a.ts', 'src/c.ts']) put(path, (files[path] ?? []).map((line) => line.replace('const', 'let')));
  hugoCodemod = repo.commit('refactor: const to let codemod', { author: hugo, time: day(225) });
  repo.write('.git-blame-ignore-revs', `# codemod\n${hugoCodemod}\n`);
  repo.commit('ignore codemod in blame', { author: hugo, time: day(226) });
}

beforeAll(buildRepo);
afterAll(() => repo.dispose());

describe.each(storeKinds)('selectReviewers on %s', (kind) => {
  let store: TestStore;
  let repoId: number;
  let base: string;
  beforeAll(async () => {
    store = await openTestStore(kind);
    repoId = await seedStoreFromRepo(store, repo.dir);
    base = repo.head();
  });
  afterAll(async () => store.dispose());

  const select = (overrides: Partial<SelectionInput>) =>
    selectReviewers({ store, repoId, files: ['src/a.ts'], authors: ['Frank <frank@example.com>'], now, git: { repoPath: repo.dir, base }, ...overrides });

  it('picks the expert of the file, with an explanation', async () => {
    const selection = await select({});
    expect(selection.reviewers.map((r) => r.email)).toEqual([alice.email]);
    // 30 lines written, 3 of them since rewritten by the bot.
    expect(selection.reviewers[0]?.reasons.join(' ')).toMatch(/src\/a\.ts: \d+% of its expertise, 27 surviving lines/);
    expect(selection.explanation[0]).toBe('tier standard: 1 reviewer');
  });

  it('load moves the request away from a busy expert', async () => {
    const busy = Array.from({ length: 6 }, () => ({ reviewer: alice.email, estimatedMinutes: 90 }));
    const selection = await select({ openRequests: busy });
    expect(selection.reviewers.map((r) => r.email)).toEqual([dave.email]);
    const aliceEntry = selection.candidates.find((c) => c.email === alice.email);
    expect(aliceEntry?.openReviews).toBe(6);
    expect(aliceEntry?.expertise).toBeGreaterThan(selection.reviewers[0]?.expertise ?? Infinity);
    const limited = await select({ openRequests: busy.slice(0, 2), config: { maxOpenReviews: 2 } });
    expect(limited.reviewers[0]?.email).toBe(dave.email);
    expect(limited.excluded.find((e) => e.key.includes(alice.email))?.reason).toBe('over-limit');
  });

  it('a formatting commit does not make its author an expert, nor an ignored revision', async () => {
    const selection = await select({ files: ['src/a.ts', 'src/c.ts'] });
    expect(selection.ignoredChanges).toEqual(expect.arrayContaining([bobFormat, hugoCodemod]));
    for (const name of [bob.email, hugo.email]) {
      expect(selection.candidates.find((c) => c.email === name)?.expertise ?? 0).toBe(0);
    }
    // Control: without git the reformat is not recognised and Bob looks like an expert.
    const blind = await select({ files: ['src/a.ts', 'src/c.ts'], git: undefined });
    expect(blind.candidates.find((c) => c.email === bob.email)?.expertise).toBeGreaterThan(0);
  });

  it('never chooses a departed, inactive or away person, the author, or a bot', async () => {
    const departed = await select({ files: ['src/c.ts'], config: { departed: [carol.email] } });
    expect(departed.reviewers.map((r) => r.email)).not.toContain(carol.email);
    expect(departed.reviewers).toHaveLength(1);
    expect(departed.excluded.find((e) => e.key.includes(carol.email))?.reason).toBe('departed');
    const control = await select({ files: ['src/c.ts'] });
    expect(control.reviewers[0]?.email).toBe(carol.email);

    const inactive = await select({ files: ['src/g.ts'] });
    expect(inactive.reviewers.map((r) => r.email)).not.toContain(gina.email);
    expect(inactive.excluded.find((e) => e.key.includes(gina.email))?.reason).toBe('inactive');

    const away = await select({ config: { away: ['Alice'] } });
    expect(away.reviewers[0]?.email).toBe(dave.email);

    const own = await select({ authors: [`Alice <${alice.email}>`] });
    expect(own.reviewers[0]?.email).not.toBe(alice.email);
    expect(own.excluded.find((e) => e.key.includes(alice.email))?.reason).toBe('author');

    const all = [...departed.candidates, ...control.candidates, ...own.candidates].map((c) => c.key);
    expect(all.some((key) => key.includes('[bot]'))).toBe(false);
    expect(control.excluded.some((e) => e.reason === 'bot') || own.excluded.some((e) => e.reason === 'bot')).toBe(true);
  });

  it('adds a second reviewer for a silo file only when asked', async () => {
    const plain = await select({ files: ['src/d.ts'] });
    expect(plain.silos.map((s) => [s.path, s.holder.includes(erin.email)])).toEqual([['src/d.ts', true]]);
    expect(plain.reviewers.map((r) => r.email)).toEqual([erin.email]);
    const spread = await select({ files: ['src/d.ts'], config: { secondReviewerForSilos: true } });
    expect(spread.reviewers.map((r) => r.role)).toEqual(['primary', 'silo-second']);
    expect(spread.reviewers[0]?.email).toBe(erin.email);
    expect(spread.reviewers[1]?.email).not.toBe(erin.email);
    expect(spread.reviewers[1]?.reasons[0]).toMatch(/spread knowledge of silo src\/d\.ts/);
  });

  it('senior tier needs a senior or an owner, and says so when there is none', async () => {
    const senior = await select({ tier: 'senior', config: { seniors: ['Dave <dave@example.com>'] } });
    expect(senior.reviewers.map((r) => r.email)).toEqual([dave.email]);
    const owners = parseCodeOwners('* @nobody\n/src/ erin@example.com # src owner\n', 'CODEOWNERS');
    const owned = await select({ tier: 'senior', codeOwners: owners });
    expect(owned.reviewers.map((r) => [r.email, r.owner])).toEqual([[erin.email, true]]);
    const none = await select({ tier: 'senior' });
    expect(none.reviewers).toEqual([]);
    expect(none.unmet).toMatch(/no available senior or owner/);
    const auto = await select({ tier: 'auto' });
    expect(auto.reviewers).toEqual([]);
    expect(auto.unmet).toBeNull();
  });

  it('credits the merger of a branch and plugged-in review history as reviewers', async () => {
    const merged = await select({ files: ['src/b.ts'] });
    expect(merged.candidates.find((c) => c.email === mallory.email)?.expertise).toBeGreaterThan(0);
    const history = reviewHistoryFrom(Array.from({ length: 5 }, (_, i) => ({ reviewer: 'Ivy <ivy@example.com>', paths: ['src/d.ts'], time: day(221 + i) })));
    const withReviews = await select({ files: ['src/d.ts'], reviewHistory: history });
    const ivy = withReviews.candidates.find((c) => c.email === 'ivy@example.com');
    expect(ivy?.expertise).toBeGreaterThan(0);
  });

  it('is deterministic', async () => {
    const strip = (s: Awaited<ReturnType<typeof select>>) => ({ ...s, timings: {} });
    const first = strip(await select({ files: ['src/a.ts', 'src/b.ts', 'src/d.ts'], config: { secondReviewerForSilos: true } }));
    const second = strip(await select({ files: ['src/a.ts', 'src/b.ts', 'src/d.ts'], config: { secondReviewerForSilos: true } }));
    expect(second).toEqual(first);
  });
});
