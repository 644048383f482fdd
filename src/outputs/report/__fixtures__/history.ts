import { RepoBuilder } from '../../../sources/git/__fixtures__/repo-builder.ts';

const day = 86_400;
/** Monday 2025-01-06 00:00 UTC. */
export const start = 1_736_121_600;

const alice = { name: 'Alice', email: 'alice@example.com' };
const bob = { name: 'Bob', email: 'bob@example.com' };

/**
 * A small real history for report and derivation tests: a merged PR, a squash-merged PR, a release
 * tag before and after them, a change that is reverted and a hotfix.
 *   day 0  a.ts (direct, Alice)           tag v1.0.0 on day 0
 *   day 1  PR #1 branch commit (Bob), merged day 2 "Merge pull request #1 from acme/feature-one"
 *   day 3  "Add b (#2)" squash (Alice), coding started day 3
 *   day 4  "Break things" (Bob)
 *   day 5  "Revert \"Break things\"" (Alice)       tag v1.1.0 on day 6 (lightweight on day 5's commit)
 *   day 7  "hotfix: null check" (Bob)               tag v1.1.1 on day 7
 */
export function buildHistory(): RepoBuilder {
  const repo = new RepoBuilder();
  repo.write('src/a.ts', 'export const a = 1;\n');
  repo.commit('Add a', { author: alice, time: start });
  repo.gitWith({ GIT_COMMITTER_DATE: `@${start + 3600} +0000` }, 'tag', '-a', 'v1.0.0', '-m', 'release 1.0.0');
  repo.checkout('feature-one', true);
  repo.write('src/one.ts', 'export const one = 1;\n');
  repo.commit('Add one', { author: bob, time: start + day });
  repo.checkout('main');
  repo.merge('feature-one', 'Merge pull request #1 from acme/feature-one\n\nAdd one', { author: bob, time: start + 2 * day });
  repo.write('src/b.ts', 'export const b = 2;\n');
  repo.commit('Add b (#2)', { author: alice, time: start + 3 * day });
  repo.write('src/a.ts', 'export const a = 2;\n');
  const broken = repo.commit('Break things', { author: bob, time: start + 4 * day });
  repo.write('src/a.ts', 'export const a = 1;\n');
  repo.commit(`Revert "Break things"\n\nThis reverts commit ${broken}.`, { author: alice, time: start + 5 * day });
  repo.gitWith({ GIT_COMMITTER_DATE: `@${start + 6 * day} +0000` }, 'tag', '-a', 'v1.1.0', '-m', 'release 1.1.0');
  repo.write('src/b.ts', 'export const b = 3;\n');
  repo.commit('hotfix: null check', { author: bob, time: start + 7 * day });
  repo.gitWith({ GIT_COMMITTER_DATE: `@${start + 7 * day + 3600} +0000` }, 'tag', '-a', 'v1.1.1', '-m', 'release 1.1.1');
  repo.gitWith({}, 'tag', 'v1.2.0-rc1');
  return repo;
}
