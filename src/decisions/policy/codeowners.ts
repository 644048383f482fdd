import { codeOwnersLocations, ownersOf, parseCodeOwners, type CodeOwners } from '../../analyses/routing/codeowners.ts';
import { readFileAtAsync } from '../../sources/git/git.ts';

/** CODEOWNERS as text (so change facts stay JSON): where it was read and what it says. */
export interface CodeOwnersText {
  source: string;
  text: string;
}

/** Answers "who owns this path" (the owners of the last matching rule; none when nothing matches). */
export type OwnersOf = (path: string) => readonly string[];

const noOwners: OwnersOf = () => [];
const cache = new Map<string, { parsed: CodeOwners; ownersOf: OwnersOf }>();
const cacheLimit = 64;

/** Parses CODEOWNERS once per distinct text (the routing module's parser) and returns an owners lookup. */
export function compileCodeOwners(file: CodeOwnersText | null): { parsed: CodeOwners | null; ownersOf: OwnersOf } {
  if (file === null) return { parsed: null, ownersOf: noOwners };
  const key = `${file.source}\0${file.text}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const parsed = parseCodeOwners(file.text, file.source);
  const entry = { parsed, ownersOf: (path: string) => ownersOf(parsed, path).owners };
  // A service sees few distinct CODEOWNERS files; drop the oldest when that assumption breaks.
  if (cache.size >= cacheLimit) cache.delete(cache.keys().next().value ?? '');
  cache.set(key, entry);
  return entry;
}

/** Reads CODEOWNERS as it is at `rev` (the first of GitHub's locations that exists); null when none. */
export async function readCodeOwnersTextAt(repoPath: string, rev: string): Promise<CodeOwnersText | null> {
  for (const location of codeOwnersLocations) {
    const text = await readFileAtAsync(repoPath, rev, location);
    if (text !== null) return { source: `${location} at ${rev}`, text };
  }
  return null;
}
