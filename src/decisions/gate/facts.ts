import type { BroughtCommit, GitNote } from '../../changes/change.ts';
import { FlowgateError } from '../../core/errors.ts';
import { git, resolveCommit, resolveCommits } from '../../sources/git/git.ts';
import { readDiffFiles, readNumstat } from '../../sources/git/history.ts';
import { builtinSignatures, detectProvenance, type Signature } from '../../analyses/provenance/index.ts';
import { readCodeOwnersTextAt } from '../policy/codeowners.ts';
import type { ChangeAuthor, ChangeFacts, GateFile } from './types.ts';

const field = '%x1f';
const record = '%x1e';

/** A commit as read here: its committer (a provenance signal of the head), commit time and number of parents too. */
type ReadCommit = BroughtCommit & { committer: { name: string; email: string }; commitTime: number; parents: number };

/** Reads commits as {sha, author, committer, times, parents, subject, body}; `args` select them (a range, or one sha with -1), newest first. */
async function readCommits(repoPath: string, args: string[]): Promise<ReadCommit[]> {
  const format = ['%H', '%an', '%ae', '%at', '%cn', '%ce', '%ct', '%P', '%s', '%b'].join(field) + record;
  return (await git(repoPath, ['log', `--format=${format}`, ...args]))
    .split('\x1e')
    .map((entry) => entry.replace(/^\n/, ''))
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [sha = '', name = '', email = '', time = '0', committerName = '', committerEmail = '', commitTime = '0', parents = '', subject = '', body = ''] = entry.split('\x1f');
      const committer = { name: committerName, email: committerEmail };
      return { sha, author: { name, email }, committer, authorTime: Number(time), commitTime: Number(commitTime), parents: parents.split(' ').filter((p) => p !== '').length, subject, body, trailers: [] };
    });
}

/** The git-ai note on a commit, if any (refs/notes/ai); missing notes are normal. */
async function readAiNote(repoPath: string, sha: string): Promise<GitNote[]> {
  try {
    const body = await git(repoPath, ['notes', '--ref', 'refs/notes/ai', 'show', sha]);
    return [{ ref: 'refs/notes/ai', body }];
  } catch {
    return [];
  }
}

/** Facts of a change in a local repository: also its head commit and how many commits it brings (features of a proposed change). */
export interface LocalChangeFacts extends ChangeFacts {
  headCommit: { time: number; subject: string; parents: number };
  /** Commits in merge-base..head (1 when the head is the merge base). */
  commits: number;
}

/** Options of collectChangeFacts. */
export interface CollectOptions {
  /** Shas that reviewers approved: the files changed since each are computed (for staleness). */
  approvedShas?: readonly string[];
  /** Provenance signatures in force (signaturesFromConfig of the base config); default: the built-in ones. */
  signatures?: readonly Signature[];
  /** The PR's head branch, when known (a provenance signal). */
  headBranch?: string | null;
  /**
   * Called with the change's files (paths and statuses; no line counts yet) as soon as git lists
   * them, which takes it a fraction of counting the lines: a caller can read ahead meanwhile.
   */
  onListed?: (files: readonly ListedFile[]) => void;
}

/** A file of the change as first listed: where it is and was, and how it changed. */
export type ListedFile = Pick<GateFile, 'path' | 'oldPath' | 'status'>;

/**
 * Reads from git everything a gate decision needs about `base..head`: files against the merge base
 * (with whitespace-only detection from `git diff -w --ignore-blank-lines`), the head's author,
 * CODEOWNERS at the base, and what changed since each approved sha. Does no deciding. The git
 * commands run side by side (a wide change's diffs are most of a check's time).
 */
export async function collectChangeFacts(repoPath: string, base: string, head: string, options: CollectOptions = {}): Promise<LocalChangeFacts> {
  const [baseSha = '', headSha = ''] = resolveCommits(repoPath, [base, head]);
  // Unrelated histories: compare with the base itself.
  const mergeBase = (await git(repoPath, ['merge-base', baseSha, headSha], { allowFailure: true })).trim() || baseSha;

  const range = [mergeBase, headSha];
  const { onListed } = options;
  // Not awaited: the facts below do not wait for it, and a failure there is reported by them.
  if (onListed !== undefined) readDiffFiles(repoPath, ['diff', '-z', '-M', '--raw', ...range]).then(onListed, () => undefined);
  const [listed, ignoringWhitespace, commits, notes, changedSince, codeOwners] = await Promise.all([
    // Parsed and path-decoded as the miner stores changes, so stored history is found by the same paths.
    readDiffFiles(repoPath, ['diff', '-z', '-M', '--raw', '--numstat', ...range]),
    readNumstat(repoPath, ['diff', '-z', '-M', '-w', '--ignore-blank-lines', '--numstat', ...range]),
    // The head first, then the change's other commits (a PR branch's earlier ones are evidence too).
    readCommits(repoPath, mergeBase === headSha ? ['-1', headSha] : [`${mergeBase}..${headSha}`]),
    readAiNote(repoPath, headSha),
    filesChangedSince(repoPath, headSha, options.approvedShas ?? []),
    readCodeOwnersTextAt(repoPath, baseSha),
  ]);
  const files: GateFile[] = listed.map(({ path, oldPath, status, added, deleted, binary }) => {
    const ws = ignoringWhitespace.get(path);
    const lines = (added ?? 0) + (deleted ?? 0);
    const whitespaceOnly = status === 'M' && !binary && lines > 0 && (ws === undefined || (ws.added ?? 0) + (ws.deleted ?? 0) === 0);
    return { path, oldPath, status, added: added ?? 0, deleted: deleted ?? 0, binary, whitespaceOnly };
  });

  const headCommit = commits.find((c) => c.sha === headSha);
  if (headCommit === undefined) throw new FlowgateError('REVISION_NOT_FOUND', `Could not read commit ${headSha} in ${repoPath}.`);
  const author: ChangeAuthor = { ...headCommit.author, login: null };
  const provenance = detectProvenance(
    {
      author: headCommit.author,
      committer: headCommit.committer,
      subject: headCommit.subject,
      body: headCommit.body,
      trailers: [],
      headBranch: options.headBranch ?? null,
      commits: commits.filter((c) => c.sha !== headSha),
      notes,
    },
    options.signatures ?? builtinSignatures,
  );

  return {
    base: baseSha,
    head: headSha,
    mergeBase,
    author,
    provenance: { class: provenance.class, tool: provenance.tool },
    files,
    codeOwners,
    changedSince,
    headCommit: { time: headCommit.commitTime, subject: headCommit.subject, parents: headCommit.parents },
    commits: commits.length,
  };
}

/** For each approved sha, the files changed between it and the head (null: the sha is unknown here). */
async function filesChangedSince(repoPath: string, headSha: string, approvedShas: readonly string[]): Promise<Record<string, string[] | null>> {
  const changedSince: Record<string, string[] | null> = {};
  await Promise.all(
    [...new Set(approvedShas)].map(async (sha) => {
      if (sha === headSha) {
        changedSince[sha] = [];
        return;
      }
      try {
        const approved = resolveCommit(repoPath, sha);
        changedSince[sha] = (await git(repoPath, ['diff', '-z', '--name-only', '--no-renames', approved, headSha])).split('\0').filter((p) => p !== '');
      } catch {
        changedSince[sha] = null;
      }
    }),
  );
  return changedSince;
}
