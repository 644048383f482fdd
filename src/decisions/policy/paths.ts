import picomatch from 'picomatch';

/** Tests one repository-relative path. */
export type PathMatcher = (path: string) => boolean;

const never: PathMatcher = () => false;

/** Compiles globs (picomatch syntax, dotfiles included) into one matcher; no globs match nothing. */
export function compileGlobs(globs: readonly string[]): PathMatcher {
  if (globs.length === 0) return never;
  return picomatch([...globs], { dot: true });
}
