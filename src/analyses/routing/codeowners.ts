import picomatch from 'picomatch';
import { readFileAt } from '../../sources/git/git.ts';

/** One CODEOWNERS rule: a pattern, its owners (`@user`, `@org/team` or e-mails) and its line. */
export interface CodeOwnersRule {
  pattern: string;
  owners: string[];
  line: number;
  matches: (path: string) => boolean;
}

/** A parsed CODEOWNERS file and where it was read from. */
export interface CodeOwners {
  source: string;
  rules: CodeOwnersRule[];
}

/** Where GitHub looks for the file, in its order of precedence. */
export const codeOwnersLocations = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;

/** Turns one GitHub CODEOWNERS pattern (gitignore-like) into a path matcher. */
function compilePattern(raw: string): (path: string) => boolean {
  let pattern = raw.replace(/^\\#/, '#');
  const dirOnly = pattern.endsWith('/');
  if (dirOnly) pattern = pattern.slice(0, -1);
  // A slash at the start or in the middle anchors the pattern at the root; otherwise it matches at any depth.
  const anchored = pattern.startsWith('/') || pattern.includes('/');
  pattern = pattern.replace(/^\//, '');
  const base = anchored ? pattern : `**/${pattern}`;
  const globs: string[] = [];
  if (!dirOnly) globs.push(base);
  // A pattern naming a directory owns everything below it, except `dir/*`, which GitHub documents as one level only.
  if (dirOnly || !raw.endsWith('/*')) globs.push(`${base}/**`);
  return picomatch(globs, { dot: true });
}

/** Parses CODEOWNERS text; lines that are blank or comments are skipped. */
export function parseCodeOwners(text: string, source: string): CodeOwners {
  const rules: CodeOwnersRule[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, rawLine] of lines.entries()) {
    const line = rawLine.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const [pattern, ...owners] = line.split(/\s+/);
    if (pattern === undefined) continue;
    rules.push({ pattern, owners, line: index + 1, matches: compilePattern(pattern) });
  }
  return { source, rules };
}

/** The owners of a path: those of the last matching rule (GitHub's rule), empty when none matches. */
export function ownersOf(codeOwners: CodeOwners, path: string): { owners: string[]; rule: CodeOwnersRule | null } {
  for (let i = codeOwners.rules.length - 1; i >= 0; i--) {
    const rule = codeOwners.rules[i];
    if (rule?.matches(path) === true) return { owners: rule.owners, rule };
  }
  return { owners: [], rule: null };
}

/** Reads and parses CODEOWNERS at `rev` (never from the work tree); null when the repository has none there. */
export function readCodeOwnersAt(repoPath: string, rev: string): CodeOwners | null {
  for (const location of codeOwnersLocations) {
    const text = readFileAt(repoPath, rev, location);
    if (text !== null) return parseCodeOwners(text, `${location} at ${rev}`);
  }
  return null;
}
