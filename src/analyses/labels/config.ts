import { z } from 'zod';

/** Words that mark a fix in a commit subject or body (matched as whole words, case-insensitively). */
export const defaultFixKeywords = ['fix', 'fixes', 'fixed', 'fixing', 'bug', 'bugs', 'bugfix', 'hotfix', 'defect', 'patch', 'crash', 'crashes', 'regression', 'broken', 'fault'];

/**
 * Issue references that mark a fix: `fixes #12`, `fixes org/repo#12`, `Fixes gh-12`, Trac's
 * `Fixed #12` and Bugzilla's `bug 12`. A bare `#12` is not enough (squash merges end in `(#12)`),
 * and neither is `closes #12` (features close issues too).
 */
export const defaultIssuePatterns = [
  '\\bfix(?:e[sd])?\\s*:?\\s+(?:[\\w.-]+/[\\w.-]+)?(?:#|gh-)\\d+',
  '\\bbug\\s*#?\\d{3,}',
];

/** The kinds of files SZZ traces lines through (see features/file-kinds.ts). */
export const FileKind = z.enum(['code', 'test', 'docs', 'config', 'lockfile', 'migration', 'build', 'other']);
export type FileKind = z.infer<typeof FileKind>;

/** The `labels` section of .flowgate.yml: how fixes are recognised and traced back (SZZ). Every field is optional. */
export const LabelsConfig = z.strictObject({
  fixKeywords: z.array(z.string().min(1)).default(defaultFixKeywords).describe('Words in a commit message that mark a fix'),
  issuePatterns: z
    .array(z.string().min(1))
    .default(defaultIssuePatterns)
    .describe('Regular expressions (case-insensitive) for issue references that mark a fix, e.g. "\\\\bPROJ-\\\\d+" for Jira keys'),
  maxFixFiles: z
    .number()
    .int()
    .positive()
    .default(20)
    .describe('A fix touching more files than this is not traced back (large changes are mostly refactorings)'),
  maxInducingFiles: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('When set, changes touching more files than this are never labelled defect-inducing (imports, mass reformatting)'),
  traceKinds: z
    .array(FileKind)
    .default(['code'])
    .describe('Which kinds of files SZZ traces lines through; documentation and tests changed by a fix say little about the defect'),
  ignoreRevsFile: z
    .string()
    .default('.git-blame-ignore-revs')
    .describe('File at the repository root listing revisions (formatting, moves) that never introduce lines'),
  pick: z
    .enum(['most-recent', 'all'])
    .default('most-recent')
    .describe('Which introducing changes a fix labels: the most recent one (R-SZZ, the most precise) or all of them'),
  method: z
    .enum(['auto', 'stream', 'blame'])
    .default('auto')
    .describe('SZZ engine: one streaming pass over the history, one git blame per fix, or auto (stream for many new fixes, blame for a few)'),
});
export type LabelsConfig = z.infer<typeof LabelsConfig>;
