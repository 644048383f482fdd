import { afterAll, describe, expect, it } from 'vitest';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { ownersOf, parseCodeOwners, readCodeOwnersAt } from './codeowners.ts';

const text = `# default owners
*       @global-owner

*.js    @js-owner #inline comment
docs/*  docs@example.com
apps/   @octocat
/build/logs/ @doctocat
**/logs @logs-owner
/scripts/ @org/scripts-team
/scripts/unowned.sh
\\#odd-name @hash-owner
`;

describe('CODEOWNERS', () => {
  const owners = parseCodeOwners(text, 'CODEOWNERS');
  const of = (path: string): string[] => ownersOf(owners, path).owners;

  it('applies the last matching pattern, GitHub-style', () => {
    expect(of('README.md')).toEqual(['@global-owner']);
    expect(of('src/index.js')).toEqual(['@js-owner']);
    expect(of('docs/getting-started.md')).toEqual(['docs@example.com']);
    // docs/* is one level only; the file falls back to the default owner.
    expect(of('docs/build-app/troubleshooting.md')).toEqual(['@global-owner']);
    expect(of('apps/web/main.ts')).toEqual(['@octocat']);
    expect(of('nested/apps/x.ts')).toEqual(['@octocat']);
    expect(of('build/logs/today.txt')).toEqual(['@logs-owner']);
    expect(of('deep/logs/a.txt')).toEqual(['@logs-owner']);
    expect(of('scripts/deploy.sh')).toEqual(['@org/scripts-team']);
    expect(of('scripts/unowned.sh')).toEqual([]);
    expect(of('#odd-name')).toEqual(['@hash-owner']);
    expect(ownersOf(owners, 'src/index.js').rule?.line).toBe(4);
  });

  it('reads the file at a revision, preferring .github/', () => {
    const repo = new RepoBuilder();
    afterAll(() => repo.dispose());
    repo.write('CODEOWNERS', '* @root-owner\n').write('.github/CODEOWNERS', '* @github-owner\n').commit('owners');
    const base = repo.head();
    repo.write('.github/CODEOWNERS', '* @changed-by-the-pr\n').commit('pr changes owners');
    const atBase = readCodeOwnersAt(repo.dir, base);
    expect(atBase?.source).toBe(`.github/CODEOWNERS at ${base}`);
    expect(atBase === null ? [] : ownersOf(atBase, 'a.ts').owners).toEqual(['@github-owner']);
  });
});
