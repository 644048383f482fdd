import { describe, expect, it } from 'vitest';
import { parsePullRequestRef, parseTrailers } from './message.ts';

describe('parseTrailers', () => {
  it('reads the last paragraph of Key: value lines, with continuations', () => {
    const message = 'Add x\n\nSome body.\n\nCo-authored-by: Claude <noreply@anthropic.com>\nSigned-off-by: A B <a@b>\n  continued';
    expect(parseTrailers(message)).toEqual([
      { key: 'Co-authored-by', value: 'Claude <noreply@anthropic.com>' },
      { key: 'Signed-off-by', value: 'A B <a@b> continued' },
    ]);
  });
  it('ignores a last paragraph of prose and a subject-only message', () => {
    expect(parseTrailers('Fix: the parser\n\nThis paragraph: is prose, not trailers\nreally')).toEqual([]);
    expect(parseTrailers('Co-authored-by: X <x@y>')).toEqual([]);
  });
});

describe('parsePullRequestRef', () => {
  it('reads GitHub merge, squash, GitLab and Bitbucket conventions', () => {
    expect(parsePullRequestRef('Merge pull request #42 from octo/claude/fix-login', '')).toEqual({ number: 42, headBranch: 'claude/fix-login' });
    expect(parsePullRequestRef('Add caching layer (#913)', '')).toEqual({ number: 913, headBranch: null });
    expect(parsePullRequestRef("Merge branch 'feat/x' into 'main'", 'See merge request grp/proj!77')).toEqual({ number: 77, headBranch: 'feat/x' });
    expect(parsePullRequestRef('Merged in feature/y (pull request #8)', '')).toEqual({ number: 8, headBranch: 'feature/y' });
  });
  it('finds nothing in ordinary messages that mention numbers', () => {
    expect(parsePullRequestRef('Fix #12 in parser', 'See issue #12')).toBeNull();
  });
});
