import type { BroughtCommit, GitNote } from '../../changes/change.ts';
import { FlowgateError } from '../../core/errors.ts';
import { assertRepository, gitSync as git, resolveCommit } from '../../sources/git/git.ts';
import { builtinSignatures, detectProvenance, type Signature } from '../../analyses/provenance/index.ts';
import { readCodeOwnersTextAt } from '../policy/codeowners.ts';
import type { ChangeAuthor, ChangeFacts, GateFile } from './types.ts';

/** Splits `git diff -z --numstat` output into { path, added, deleted, binary }, renames keyed by the new path. */
function parseNumstat(out: string): Map<string, { added: number; deleted: number; binary: boolean }> {
  const stats = new Map<string, { added: number; deleted: number; binary: boolean }>();
  const parts = out.split('\0');
  for (let i = 0; i < parts.length; i += 1) {
    const head = parts[i];
    if (head === undefined || head === '') continue;
    const [added = '', deleted = '', inlinePath = ''] = head.split('\t');
    let path = inlinePath;
    // With -z a rename has an empty path field followed by the old and the new path.
    if (path === '') {
      path = parts[i + 2] ?? '';
      i += 2;
    }
    const binary = added === '-';
    stats.set(path, { added: binary ? 0 : Number(added), deleted: binary ? 0 : Number(deleted), binary });
  }
  return stats;
}

/** Lists files with status from `git diff -z --name-status`. */
function parseNameStatus(out: string): { path: string; oldPath: string | null; status: string }[] {
  const files: { path: string; oldPath: string | null; status: string }[] = [];
  const parts = out.split('\0');
  for (let i = 0; i < parts.length; i += 1) {
    const code = parts[i];
    if (code === undefined || code === '') continue;
    const status = code.charAt(0);
    if (status === 'R' || status === 'C') {
      files.push({ path: parts[i + 2] ?? '', oldPath: parts[i + 1] ?? null, status });
      i += 2;
    } else {
      files.push({ path: parts[i + 1] ?? '', oldPath: null, status });
      i += 1;
    }
  }
  return files;
}

const field = '%x1f';
const record = '%x1e';

/** Reads commits as {sha, author, time, subject, body}; `args` select them (a range or one sha with -1). */
function readCommits(repoPath: string, args: string[]): BroughtCommit[] {
  const format = ['%H', '%an', '%ae', '%at', '%s', '%b'].join(field) + record;
  return git(repoPath, ['log', `--format=${format}`, ...args])
    .split('\x1e')
    .map((entry) => entry.replace(/^\n/, ''))
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [sha = '', name = '', email = '', time = '0', subject = '', body = ''] = entry.split('\x1f');
      return { sha, author: { name, email }, authorTime: Number(time), subject, body, trailers: [] };
    });
}

/** The git-ai note on a commit, if any (refs/notes/ai); missing notes are normal. */
function readAiNote(repoPath: string, sha: string): GitNote[] {
  try {
    const body = git(repoPath, ['notes', '--ref', 'refs/notes/ai', 'show', sha]);
    return [{ ref: 'refs/notes/ai', body }];
  } catch {
    return [];
  }
}

/** Options of collectChangeFacts. */
export interface CollectOptions {
  /** Shas that reviewers approved: the files changed since each are computed (for staleness). */
  approvedShas?: readonly string[];
  /** Provenance signatures in force (signaturesFromConfig of the base config); default: the built-in ones. */
  signatures?: readonly Signature[];
  /** The PR's head branch, when known (a provenance signal). */
  headBranch?: string | null;
}

/**
 * Reads from git everything a gate decision needs about `base..head`: files against the merge base
 * (with whitespace-only detection from `git diff -w --ignore-blank-lines`), the head's author,
 * CODEOWNERS at the base, and what changed since each approved sha. Does no deciding.
 */
export function collectChangeFacts(repoPath: string, base: string, head: string, options: CollectOptions = {}): ChangeFacts {
  assertRepository(repoPath);
  const baseSha = resolveCommit(repoPath, base);
  const headSha = resolveCommit(repoPath, head);
  let mergeBase = baseSha;
  try {
    mergeBase = git(repoPath, ['merge-base', baseSha, headSha]).trim();
  } catch {
    // Unrelated histories: compare with the base itself.
  }

  const range = [mergeBase, headSha];
  const listed = parseNameStatus(git(repoPath, ['diff', '-z', '-M', '--name-status', ...range]));
  const stats = parseNumstat(git(repoPath, ['diff', '-z', '-M', '--numstat', ...range]));
  const ignoringWhitespace = parseNumstat(git(repoPath, ['diff', '-z', '-M', '-w', '--ignore-blank-lines', '--numstat', ...range]));
  const files: GateFile[] = listed.map(({ path, oldPath, status }) => {
    const stat = stats.get(path) ?? { added: 0, deleted: 0, binary: false };
    const ws = ignoringWhitespace.get(path);
    const whitespaceOnly = status === 'M' && !stat.binary && stat.added + stat.deleted > 0 && (ws === undefined || ws.added + ws.deleted === 0);
    return { path, oldPath, status, added: stat.added, deleted: stat.deleted, binary: stat.binary, whitespaceOnly };
  });

  const [headCommit] = readCommits(repoPath, ['-1', headSha]);
  const [committerName = '', committerEmail = ''] = git(repoPath, ['log', '-1', '--format=%cn%x1f%ce', headSha]).trim().split('\x1f');
  if (headCommit === undefined) throw new FlowgateError('REVISION_NOT_FOUND', `Could not read commit ${headSha} in ${repoPath}.`);
  const author: ChangeAuthor = { ...headCommit.author, login: null };
  // The other commits of the change (a PR branch's earlier commits) are evidence too.
  const brought = mergeBase === headSha ? [] : readCommits(repoPath, [`${mergeBase}..${headSha}`]).filter((c) => c.sha !== headSha);
  const provenance = detectProvenance(
    {
      author: headCommit.author,
      committer: { name: committerName, email: committerEmail },
      subject: headCommit.subject,
      body: headCommit.body,
      trailers: [],
      headBranch: options.headBranch ?? null,
      commits: brought,
      notes: readAiNote(repoPath, headSha),
    },
    options.signatures ?? builtinSignatures,
  );

  const changedSince: Record<string, string[] | null> = {};
  for (const sha of options.approvedShas ?? []) {
    if (sha in changedSince) continue;
    if (sha === headSha) {
      changedSince[sha] = [];
      continue;
    }
    try {
      const approved = resolveCommit(repoPath, sha);
      changedSince[sha] = git(repoPath, ['diff', '-z', '--name-only', '--no-renames', approved, headSha]).split('\0').filter((p) => p !== '');
    } catch {
      changedSince[sha] = null;
    }
  }

  return {
    base: baseSha,
    head: headSha,
    mergeBase,
    author,
    provenance: { class: provenance.class, tool: provenance.tool },
    files,
    codeOwners: readCodeOwnersTextAt(repoPath, baseSha),
    changedSince,
  };
}
