import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { Database } from '../../store/schema.ts';
import { getRepository } from '../../store/repositories.ts';
import type { CodeOwners } from './codeowners.ts';
import type { RoutingConfig } from './config.ts';
import type { ChangedPath } from './git.ts';
import { selectReviewers, type ChosenReviewer, type OpenRequest, type ReviewTier, type Selection } from './select.ts';
import { openRequestsFromStore, storedReviewHistory, type StoredOpenRequest } from './stored-history.ts';

/** What the service knows about a pull request when it asks who should review it. */
export interface StoredReviewersOptions {
  /** The changed files (paths, or paths with added/deleted line counts to weight them). */
  files: readonly (string | ChangedPath)[];
  /** The pull request's author: a GitHub login (`alice` or `@alice`), and when known the commit authors' `Name <email>` or e-mails. Never chosen. */
  author: string | readonly string[];
  /** The tier the gate decided (default `standard`); `auto` chooses no one, `senior` needs a senior or CODEOWNERS owner first. */
  tier?: ReviewTier | undefined;
  /** How many reviewers (default: the tier's requirement, 1). */
  count?: number | undefined;
  /** The pull request being routed: its own open requests are not counted as anyone's load. */
  prNumber?: number | undefined;
  /** The decision time, Unix seconds (default: now). Pass it for reproducible answers. */
  now?: number | undefined;
  /** The `routing` section of the policy at the base commit (seniors, away, departed, weights...). */
  config?: z.input<typeof RoutingConfig> | undefined;
  /** CODEOWNERS at the base commit (parseCodeOwners), for `senior` changes and owner reasons. */
  codeOwners?: CodeOwners | null | undefined;
  /** Open requests the caller knows of beyond those in the store. */
  extraOpenRequests?: readonly OpenRequest[] | undefined;
  /** Only people with a GitHub login may be chosen (default true: GitHub requests reviewers by login). */
  requireLogin?: boolean | undefined;
}

/** One chosen reviewer, as the service needs it. */
export interface StoredReviewer {
  /** GitHub login, or null when only a git identity is known (only possible with `requireLogin: false`). */
  login: string | null;
  /** The identity key (`Name <email>` or `@login`). */
  key: string;
  name: string;
  role: ChosenReviewer['role'];
  score: number;
  expertise: number;
  openReviews: number;
  loadMinutes: number;
  reasons: string[];
}

/** The answer: logins to request, the people behind them, and why. */
export interface StoredReviewers {
  /** Logins of the chosen reviewers, best first (what to pass to GitHub's request-reviewers call). */
  logins: string[];
  reviewers: StoredReviewer[];
  /** Set when the tier's requirement cannot be met (e.g. no available senior). */
  unmet: string | null;
  /** One line per reason: the tier, each choice, who was left out and why, silos. */
  explanation: string[];
  /** The open requests counted as load (from events, the service's own requests and `extraOpenRequests`). */
  openRequests: StoredOpenRequest[];
  /** The full selection (candidates, exclusions, silos, timings). */
  selection: Selection;
}

/**
 * Chooses reviewers for a change from the store alone (no clone: for the GitHub service).
 * Expertise comes from stored changes (files touched per author and per folder, decayed with
 * `halfLifeDays`), merges (the merger reviewed) and stored review events (a review of pull request
 * #n counts for the files of the change carrying `pr_number` n); load from open review requests
 * on open pull requests, weighted by estimated minutes (see `openRequestsFromStore`). Never the
 * author, never a bot or agent, never someone departed, away or inactive. Deterministic for a
 * given store, options and `now`: ties break by identity key. Throws NOT_FOUND when `repoKey`
 * (`owner/name` for the service) is not in the store. Blame is not available without a clone, so
 * surviving lines are not a source here and formatting-only changes are not detected.
 */
export async function reviewersFromStore(db: Kysely<Database>, repoKey: string, options: StoredReviewersOptions): Promise<StoredReviewers> {
  const repo = await getRepository(db, repoKey);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const authors = (typeof options.author === 'string' ? [options.author] : [...options.author]).flatMap((a) => {
    const t = a.trim();
    if (t === '') return [];
    // A bare login is matched as a login (and, for git-only identities, as a name).
    return t.startsWith('@') || t.includes('@') || t.includes('<') ? [t] : [`@${t}`, t];
  });
  const stored = await openRequestsFromStore(db, { id: repo.id, key: repo.key }, { now, excludePr: options.prNumber });
  const selection = await selectReviewers({
    store: { db },
    repoId: repo.id,
    files: options.files,
    authors,
    tier: options.tier,
    count: options.count,
    requireLogin: options.requireLogin ?? true,
    openRequests: [...stored, ...(options.extraOpenRequests ?? [])],
    reviewHistory: storedReviewHistory(db, repo.id),
    config: options.config,
    codeOwners: options.codeOwners,
    now,
  });
  const reviewers = selection.reviewers.map(
    (r): StoredReviewer => ({
      login: r.login ?? (r.key.startsWith('@') ? r.key.slice(1) : null),
      key: r.key,
      name: r.name,
      role: r.role,
      score: r.score,
      expertise: r.expertise,
      openReviews: r.openReviews,
      loadMinutes: r.loadMinutes,
      reasons: r.reasons,
    }),
  );
  return {
    logins: reviewers.flatMap((r) => (r.login === null ? [] : [r.login])),
    reviewers,
    unmet: selection.unmet,
    explanation: selection.explanation,
    openRequests: stored,
    selection,
  };
}
