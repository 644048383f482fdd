import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BroughtCommit, MinedChange, Provenance } from '../../changes/change.ts';
import { createIdentityResolver } from '../../changes/identities.ts';
import { parsePullRequestRef, parseTrailers } from '../../changes/message.ts';
import type { FlowgateConfig } from '../../core/config.ts';
import { isFlowgateError } from '../../core/errors.ts';
import { log } from '../../core/log.ts';
import { insertChanges, truncateChanges, type ChangeToStore } from '../../store/changes.ts';
import { ensureRepository, hostedNameOf } from '../../store/repositories.ts';
import type { Store } from '../../store/store.ts';
import { git, resolveCommit } from './git.ts';
import { findMissingBlobs, firstParentShas, readCommitMeta, readNotes, resolveBranch, streamMainline, type CommitMeta, type MissingBlobPath } from './history.ts';

export interface MineOptions {
  branch?: string | undefined;
  config: FlowgateConfig;
  /** Decides each change's provenance (the provenance analysis, injected so sources stay independent of it). */
  detect: (change: MinedChange) => Provenance;
  /** Called as changes are stored: done out of total new changes. */
  progress?: (done: number, total: number) => void;
  batchSize?: number;
}

export interface MineResult {
  repoId: number;
  key: string;
  branch: string;
  tip: string;
  /** Changes stored by this run. */
  added: number;
  /** Changes removed because the mainline was rewritten. */
  removed: number;
  /** Changes with files whose line counts are unknown because their blobs are missing (partial clone); those files have `added: null` and `binary: false`. */
  missingLineCounts: number;
  warnings: string[];
}

/** Above this many commits needing absent blobs, the rest of the history is read from trees alone. */
const maxCommitsReadAlone = 2000;

/** The store key of a repository: the real path of its top level (or git dir, when bare). */
export async function repositoryKey(repoPath: string): Promise<{ key: string; path: string }> {
  // One process: --show-toplevel fails outside a work tree, and a check waits for this key.
  const [inside = '', gitDir = '', up = ''] = (await git(repoPath, ['rev-parse', '--is-inside-work-tree', '--absolute-git-dir', '--show-cdup'])).split('\n');
  const where = realpathSync(inside === 'true' ? resolve(repoPath, up === '' ? '.' : up) : gitDir);
  return { key: where, path: where };
}

/**
 * The hosted `owner/name` of a clone, from its `origin` remote (else its only remote); null when it
 * has none. Stored beside the path so the GitHub service finds an analyzed clone by `owner/name`.
 */
export async function hostedRemote(repoPath: string): Promise<string | null> {
  const out = await git(repoPath, ['config', '--get-regexp', '^remote\\..*\\.url$'], { allowFailure: true });
  const urls = new Map<string, string>();
  for (const line of out.split('\n')) {
    const match = /^remote\.(.+)\.url (.+)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) urls.set(match[1], match[2]);
  }
  const url = urls.get('origin') ?? (urls.size === 1 ? [...urls.values()][0] : undefined);
  return url === undefined ? null : hostedNameOf(url);
}

/**
 * Mines the first-parent history of a branch into the store, incrementally: only what is new since
 * the stored tip; a rewritten mainline is reconciled (changes no longer on it are removed).
 * Batches are committed with the tip, so a killed run resumes where it stopped.
 */
export async function mineRepository(store: Store, repoPath: string, options: MineOptions): Promise<MineResult> {
  const absolute = resolve(repoPath);
  const branch = await resolveBranch(absolute, options.branch);
  const { key, path } = await repositoryKey(absolute);
  const tip = resolveCommit(absolute, branch);
  const repo = await ensureRepository(store.db, key, path, branch, await hostedRemote(absolute));
  const warnings: string[] = [];

  const shallow = (await git(absolute, ['rev-parse', '--is-shallow-repository'])).trim() === 'true';
  if (shallow) warnings.push('The repository is a shallow clone: history before the shallow boundary is not mined. Run `git fetch --unshallow` for all of it.');

  const mainline = await firstParentShas(absolute, tip);
  const onMainline = new Map(mainline.map((sha, i) => [sha, i]));
  const { exclude, removed } = await reconcile(store, repo.id, repo.tip_sha, onMainline);
  if (removed > 0) warnings.push(`The mainline was rewritten: ${removed} stored changes no longer on ${branch} were removed.`);
  const result: MineResult = { repoId: repo.id, key, branch, tip, added: 0, removed, missingLineCounts: 0, warnings };
  if (exclude === tip) return result;

  const total = exclude === null ? mainline.length : (onMainline.get(exclude) ?? mainline.length);
  const meta = await readCommitMeta(absolute, tip, exclude);
  const notes = await readNotes(absolute);
  const resolveIdentity = createIdentityResolver(options.config.identities);
  const identityIds = new Map<string, number>();
  const assigned = new Set<string>();
  const batchSize = options.batchSize ?? 500;

  let position = await nextPosition(store, repo.id);
  let batch: ChangeToStore[] = [];
  let lastStored = exclude;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const toWrite = batch;
    batch = [];
    await store.db.transaction().execute((tx) => insertChanges(tx, repo.id, position, toWrite, identityIds));
    position += toWrite.length;
    result.added += toWrite.length;
    lastStored = toWrite[toWrite.length - 1]?.change.sha ?? lastStored;
    options.progress?.(result.added, total);
  };

  // Line counts need blobs. When one is absent (a partial clone, an incomplete snapshot), the
  // commits that need it are found and only their absent paths go without counts; only if git
  // still fails is the rest read from trees alone.
  let withLineCounts = true;
  let missing: Map<string, MissingBlobPath[]> | undefined;
  const missingPaths = new Set<string>();
  for (;;) {
    try {
      for await (const diff of streamMainline(absolute, tip, lastStored, { withLineCounts, missing })) {
        const commit = meta.get(diff.sha);
        if (commit === undefined) continue;
        const change = buildChange(commit, diff.files, meta, onMainline, assigned, notes);
        const unknown = diff.files.filter((f) => f.added === null && !f.binary);
        if (unknown.length > 0) {
          result.missingLineCounts += 1;
          for (const f of unknown) missingPaths.add(f.path);
        }
        batch.push({
          change,
          provenance: options.detect(change),
          author: resolveIdentity(change.author),
          committer: resolveIdentity(change.committer),
          commitAuthors: change.commits.map((c) => resolveIdentity(c.author)),
        });
        if (batch.length >= batchSize) await flush();
      }
      await flush();
      break;
    } catch (error) {
      if (!withLineCounts || !isFlowgateError(error, 'GIT_OBJECT_MISSING')) throw error;
      // Keep what is stored; the unflushed batch is read again.
      batch = [];
      if (missing === undefined) {
        log.debug({ err: error, repo: key }, 'objects missing; finding which');
        missing = await findMissingBlobs(absolute, tip, lastStored);
        // Reading commits one by one pays off for a few; a blob-less clone lacks them all.
        if (missing.size > 0 && missing.size <= maxCommitsReadAlone) continue;
      }
      log.debug({ err: error, repo: key }, 'objects missing; mining without line counts');
      warnings.push(`Some objects are missing (partial clone?): changes after ${lastStored ?? 'the start'} were mined without line counts. Fetch the missing objects and re-run to fill them in.`);
      withLineCounts = false;
    }
  }
  if (withLineCounts && missingPaths.size > 0) {
    const shown = [...missingPaths].sort().slice(0, 5).join(', ');
    const more = missingPaths.size > 5 ? ` and ${missingPaths.size - 5} more` : '';
    warnings.push(
      `Some blobs are missing (partial clone?): ${result.missingLineCounts} changes have files without line counts (${shown}${more}); every other file was counted. Fetch the missing objects to count them.`,
    );
  }
  return result;
}

async function nextPosition(store: Store, repoId: number): Promise<number> {
  const row = await store.db
    .selectFrom('changes')
    .select((eb) => eb.fn.max('position').as('max'))
    .where('repo_id', '=', repoId)
    .executeTakeFirst();
  // max() over an empty table is null; PostgreSQL and SQLite both return a number otherwise.
  const max = row?.max as number | null | undefined;
  return max === null || max === undefined ? 0 : max + 1;
}

/** Finds where mining resumes; when the stored tip left the mainline, removes the stored changes after the fork. */
async function reconcile(
  store: Store,
  repoId: number,
  storedTip: string | null,
  onMainline: Map<string, number>,
): Promise<{ exclude: string | null; removed: number }> {
  if (storedTip === null) {
    // A run killed before its first batch, or a fresh repository: nothing to keep.
    return { exclude: null, removed: 0 };
  }
  if (onMainline.has(storedTip)) return { exclude: storedTip, removed: 0 };
  let offset = 0;
  for (;;) {
    const page = await store.db
      .selectFrom('changes')
      .select(['sha', 'position'])
      .where('repo_id', '=', repoId)
      .orderBy('position', 'desc')
      .limit(1000)
      .offset(offset)
      .execute();
    const keep = page.find((row) => onMainline.has(row.sha));
    if (keep !== undefined || page.length < 1000) {
      const position = keep?.position ?? -1;
      const sha = keep?.sha ?? null;
      const removed = await store.db.transaction().execute((tx) => truncateChanges(tx, repoId, position, sha));
      return { exclude: sha, removed };
    }
    offset += 1000;
  }
}

function buildChange(
  commit: CommitMeta,
  files: MinedChange['files'],
  meta: Map<string, CommitMeta>,
  onMainline: Map<string, number>,
  assigned: Set<string>,
  notes: Map<string, { ref: string; body: string }[]>,
): MinedChange {
  const { subject, body } = splitMessage(commit.message);
  const pr = parsePullRequestRef(subject, body);
  assigned.add(commit.sha);
  const commits = broughtIn(commit, meta, onMainline, assigned);
  const kind = commit.parents.length > 2 ? 'octopus' : commit.parents.length === 2 ? 'merge' : pr !== null ? 'squash' : 'direct';
  const codingStartedAt = Math.min(commit.authorTime, ...commits.map((c) => c.authorTime));
  const changeNotes = [commit.sha, ...commits.map((c) => c.sha)].flatMap((sha) => notes.get(sha) ?? []);
  return {
    sha: commit.sha,
    parents: commit.parents,
    kind,
    author: commit.author,
    authorTime: commit.authorTime,
    committer: commit.committer,
    commitTime: commit.commitTime,
    subject,
    body,
    trailers: parseTrailers(commit.message),
    prNumber: pr?.number ?? null,
    headBranch: pr?.headBranch ?? null,
    codingStartedAt,
    files,
    commits,
    notes: changeNotes,
  };
}

/** The commits a merge brought in: reachable from its other parents, not yet on the mainline or brought by an earlier merge. */
function broughtIn(commit: CommitMeta, meta: Map<string, CommitMeta>, onMainline: Map<string, number>, assigned: Set<string>): BroughtCommit[] {
  const out: BroughtCommit[] = [];
  const stack = commit.parents.slice(1);
  while (stack.length > 0) {
    const sha = stack.pop() as string;
    if (assigned.has(sha) || onMainline.has(sha)) continue;
    const c = meta.get(sha);
    // Not in `meta` means reachable from the previously stored tip: already landed.
    if (c === undefined) continue;
    assigned.add(sha);
    const { subject, body } = splitMessage(c.message);
    out.push({ sha, author: c.author, authorTime: c.authorTime, subject, body, trailers: parseTrailers(c.message) });
    stack.push(...c.parents);
  }
  return out.sort((a, b) => a.authorTime - b.authorTime || a.sha.localeCompare(b.sha));
}

function splitMessage(message: string): { subject: string; body: string } {
  const trimmed = message.replace(/\s+$/, '');
  const newline = trimmed.indexOf('\n');
  if (newline === -1) return { subject: trimmed, body: '' };
  return { subject: trimmed.slice(0, newline).trim(), body: trimmed.slice(newline + 1).replace(/^\s*\n/, '') };
}

