import { execFileSync } from 'node:child_process';
import { compileGlobs, type PathMatcher } from './paths.ts';

/** One line of a CODEOWNERS file: a pattern and its owners (`@user`, `@org/team` or an e-mail). */
export interface CodeOwnersRule {
  pattern: string;
  owners: string[];
  line: number;
}

/** Where GitHub looks for CODEOWNERS, in its order of precedence. */
export const codeOwnersPaths = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;

/** Parses CODEOWNERS text; comments, blank lines and escaped `#` are handled like GitHub does. */
export function parseCodeOwners(text: string): CodeOwnersRule[] {
  const rules: CodeOwnersRule[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const [pattern, ...owners] = line.split(/\s+/);
    if (pattern === undefined) continue;
    rules.push({ pattern, owners, line: index + 1 });
  }
  return rules;
}

/** Turns a gitignore-style CODEOWNERS pattern into picomatch globs. */
function patternToGlobs(pattern: string): string[] {
  const anchored = pattern.startsWith('/');
  let body = anchored ? pattern.slice(1) : pattern;
  const directoryOnly = body.endsWith('/');
  if (directoryOnly) body = body.slice(0, -1);
  if (body === '' || body === '*' && directoryOnly) return ['**'];
  // A slash at the start or in the middle anchors the pattern at the root; otherwise it matches at any depth.
  const prefix = anchored || body.includes('/') ? '' : '**/';
  const glob = `${prefix}${body}`;
  return directoryOnly ? [`${glob}/**`] : [glob, `${glob}/**`];
}

/** Answers "who owns this path" from compiled rules: the owners of the last matching rule. */
export type OwnersOf = (path: string) => readonly string[];

const compiled = new WeakMap<readonly CodeOwnersRule[], OwnersOf>();

/** Compiles rules once (cached per rules array) into an owners lookup where the last match wins. */
export function compileCodeOwners(rules: readonly CodeOwnersRule[]): OwnersOf {
  const cached = compiled.get(rules);
  if (cached !== undefined) return cached;
  const matchers: { match: PathMatcher; owners: string[] }[] = rules.map((rule) => ({ match: compileGlobs(patternToGlobs(rule.pattern)), owners: rule.owners }));
  const ownersOf: OwnersOf = (path) => {
    for (let i = matchers.length - 1; i >= 0; i -= 1) {
      const rule = matchers[i];
      if (rule?.match(path) === true) return rule.owners;
    }
    return [];
  };
  compiled.set(rules, ownersOf);
  return ownersOf;
}

/** Reads and parses CODEOWNERS as it is at `rev` (the first of GitHub's locations that exists); [] when none. */
export function readCodeOwnersAt(repoPath: string, rev: string): { path: string | null; rules: CodeOwnersRule[] } {
  const listed = execFileSync('git', ['ls-tree', '--name-only', '-z', rev, '--', ...codeOwnersPaths], {
    cwd: repoPath,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .split('\0')
    .filter((p) => p !== '');
  const path = codeOwnersPaths.find((p) => listed.includes(p));
  if (path === undefined) return { path: null, rules: [] };
  const text = execFileSync('git', ['show', `${rev}:${path}`], { cwd: repoPath, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { path, rules: parseCodeOwners(text) };
}
