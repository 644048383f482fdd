import { describe, expect, it } from 'vitest';
import { LabelsConfig } from './config.ts';
import { createChangeIndex, createFixDetector } from './fixes.ts';

const history = [
  { position: 0, sha: 'aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111', subject: 'Add parser', prNumber: null },
  { position: 1, sha: 'bbbb2222bbbb2222bbbb2222bbbb2222bbbb2222', subject: 'Add cache (#41)', prNumber: 41 },
  { position: 2, sha: 'cccc3333cccc3333cccc3333cccc3333cccc3333', subject: 'Merge pull request #42 from me/speed', prNumber: 42 },
];
const index = createChangeIndex(history, [{ sha: 'dddd4444dddd4444dddd4444dddd4444dddd4444', position: 2 }]);
const detect = createFixDetector(LabelsConfig.parse({}));
const at = (subject: string, body = '', extra: { commitSubjects?: string[] } = {}) => detect({ position: 9, subject, body, ...extra }, index);

describe('fix detection', () => {
  it('finds keyword fixes in the subject as whole words only', () => {
    expect(at('Fix crash when the cache is empty')).toMatchObject({ kind: 'keyword', evidence: 'Fix' });
    expect(at('Handle regression in parser')).toMatchObject({ kind: 'keyword', evidence: 'regression' });
    expect(at('Add prefix support to the debugger')).toBeNull();
    expect(at('Update fixtures')).toBeNull();
    expect(at('Add feature', 'This also fixes a bug mentioned in passing.')).toBeNull();
  });

  it('finds issue references and a PR title in a merge body', () => {
    expect(at('Fixed #1234 -- Made the ORM faster')).toMatchObject({ kind: 'issue' });
    expect(at('Make startup faster', 'Fixes gh-555')).toMatchObject({ kind: 'issue', evidence: 'Fixes gh-555' });
    expect(at('Make startup faster', 'Closes gh-555')).toBeNull();
    expect(at('Merge pull request #77 from me/topic', 'Correct the off-by-one crash\n')).toMatchObject({ kind: 'keyword', evidence: 'crash' });
  });

  it('recognises fixes brought in by a branch merge, not by a PR merge', () => {
    expect(at("Merge branch '3.3.x'", '', { commitSubjects: ['Polish', 'Fix NPE in loader'] })).toMatchObject({ kind: 'keyword' });
    expect(at('Merge pull request #9 from me/x', 'Add things\n', { commitSubjects: ['fix review comments'] })).toBeNull();
  });

  it('links reverts to the reverted change by sha, abbreviated sha, brought commit, PR number or subject', () => {
    expect(at('Revert "Add parser"', 'This reverts commit aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111.')).toEqual({ kind: 'revert', evidence: 'This reverts commit aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111', reverts: 0 });
    expect(at('Revert x', 'This reverts commit bbbb2222.')).toMatchObject({ reverts: 1 });
    expect(at('Revert y', 'This reverts commit dddd4444dddd.')).toMatchObject({ reverts: 2 });
    expect(at('Revert "Add cache (#41)"')).toMatchObject({ kind: 'revert', reverts: 1 });
    expect(at('Revert "Merge pull request #42 from me/speed"')).toMatchObject({ reverts: 2 });
    expect(at('Merge pull request #50 from me/revert-42-speed')).toMatchObject({ kind: 'revert', reverts: 2 });
    expect(at('Revert "Add parser"')).toMatchObject({ kind: 'revert', reverts: 0 });
    expect(at('Revert "Something never seen"')).toMatchObject({ kind: 'revert', reverts: null });
  });

  it('rejects an invalid issue pattern with a config error naming it', () => {
    expect(() => createFixDetector(LabelsConfig.parse({ issuePatterns: ['(unclosed'] }))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('(unclosed') as unknown }));
  });

  it('parses an empty labels section with every default, and refuses unknown keys', () => {
    const config = LabelsConfig.parse({});
    expect(config).toMatchObject({ maxFixFiles: 20, traceKinds: ['code'], pick: 'most-recent', method: 'auto', ignoreRevsFile: '.git-blame-ignore-revs' });
    expect(LabelsConfig.safeParse({ maxFixFile: 3 }).success).toBe(false);
  });
});
