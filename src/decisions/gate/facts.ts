import type { BroughtCommit, GitNote } from '../../changes/change.ts';
import { FlowgateError } from '../../core/errors.ts';
import { assertRepository, git, resolveCommit } from '../../sources/git/git.ts';
import { builtinSignatures, detectProvenance, type Signature } from '../../analyses/provenance/index.ts';
import { readCodeOwnersTextAt } from '../policy/codeowners.ts';
import type { ChangeAuthor, ChangeFacts, GateFile } from './types.ts';

type LineStats = Map<string, { added: number; deleted: number; binary: boolean }>;

/** Reads `git diff -z --numstat` records from `parts[from]` on into { added, deleted, binary } by path, renames keyed by the new path. */
function parseNumstat(parts: readonly string[], from = 0): LineStats {
  const stats: LineStats = new Map();
  for (let i = from; i < parts.length; i += 1) {
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

/** Splits `git diff -z --raw --numstat` into the listed files with status and their line counts (one diff instead of two). */
function parseRawNumstat(out: string): { listed: { path: string; oldPath: string | null; status: string }[]; stats: LineStats } {
  const listed: { path: string; oldPath: string | null; status: string }[] = [];
  const parts = out.split('\0');
  let i = 0;
  // The raw records come first (`:<modes> <shas> <status>`, then one path or two), the numstat ones after.
  for (; i < parts.length; i += 1) {
    const head = parts[i];
    if (head === undefined || !head.startsWith(':')) break;
    const status = head.slice(head.lastIndexOf(' ') + 1).charAt(0);
    if (status === 'R' || status === 'C') {
      listed.push({ path: parts[i + 2] ?? '', oldPath: parts[i + 1] ?? null, status });
      i += 2;
    } else {
      listed.push({ path: parts[i + 1] ?? '', oldPath: null, status });
      i += 1;
    }
  }
  return { listed, stats: parseNumstat(parts, i) };
}

const field = '%x1f';
const record = '%x1e';

/** A commit as read here: its committer too (a provenance signal of the head). */
type ReadCommit = BroughtCommit & { committer: { name: string; email: string } };

/** Reads commits as {sha, author, committer, time, subject, body}; `args` select them (a range, or one sha with -1), newest first. */
async function readCommits(repoPath: string, args: string[]): Promise<ReadCommit[]> {
  const format = ['%H', '%an', '%ae', '%at', '%cn', '%ce', '%s', '%b'].join(field) + record;
  return (await git(repoPath, ['log', `--format=${format}`, ...args]))
    .split('\x1e')
    .map((entry) => entry.replace(/^\n/, ''))
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [sha = '', name = '', email = '', time = '0', committerName = '', committerEmail = '', subject = '', body = ''] = entry.split('\x1f');
      return { sha, author: { name, email }, committer: { name: committerName, email: committerEmail }, authorTime: Number(time), subject, body, trailers: [] };
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
 * CODEOWNERS at the base, and what changed since each approved sha. Does no deciding. The git
 * commands run side by side (a wide change's diffs are most of a check's time).
 */
export async function collectChangeFacts(repoPath: string, base: string, head: string, options: CollectOptions = {}): Promise<ChangeFacts> {
  assertRepository(repoPath);
  const baseSha = resolveCommit(repoPath, base);
  const headSha = resolveCommit(repoPath, head);
  // Unrelated histories: compare with the base itself.
  const mergeBase = (await git(repoPath, ['merge-base', baseSha, headSha], { allowFailure: true })).trim() || baseSha;

  const range = [mergeBase, headSha];
  const [diff, whitespace, commits, notes, changedSince] = await Promise.all([
    git(repoPath, ['diff', '-z', '-M', '--raw', '--numstat', ...range]),
    git(repoPath, ['diff', '-z', '-M', '-w', '--ignore-blank-lines', '--numstat', ...range]),
    // The head first, then the change's other commits (a PR branch's earlier ones are evidence too).
    readCommits(repoPath, mergeBase === headSha ? ['-1', headSha] : [`${mergeBase}..${headSha}`]),
    readAiNote(repoPath, headSha),
    filesChangedSince(repoPath, headSha, options.approvedShas ?? []),
  ]);
  const { listed, stats } = parseRawNumstat(diff);
  const ignoringWhitespace = parseNumstat(whitespace.split('\0'));
  const files: GateFile[] = listed.map(({ path, oldPath, status }) => {
    const stat = stats.get(path) ?? { added: 0, deleted: 0, binary: false };
    const ws = ignoringWhitespace.get(path);
    const whitespaceOnly = status === 'M' && !stat.binary && stat.added + stat.deleted > 0 && (ws === undefined || ws.added + ws.deleted === 0);
    return { path, oldPath, status, added: stat.added, deleted: stat.deleted, binary: stat.binary, whitespaceOnly };
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
    codeOwners: readCodeOwnersTextAt(repoPath, baseSha),
    changedSince,
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
