import type { z } from 'zod';
import type { Store } from '../../store/store.ts';
import { ownersOf, type CodeOwners } from './codeowners.ts';
import { RoutingConfig } from './config.ts';
import { folderOf, gatherEvidence, type ExpertiseEvidence, type PathEvidence } from './expertise.ts';
import type { ChangedPath } from './git.ts';
import type { ReviewHistory } from './history.ts';
import { matchesAny, personMatches, type Person } from './people.ts';

/** The review a change requires (the gate decides it; routing takes it as input). */
export type ReviewTier = 'auto' | 'light' | 'standard' | 'senior';
export const reviewTiers: readonly ReviewTier[] = ['auto', 'light', 'standard', 'senior'];

/** How many reviewers each tier needs before any silo second reviewer. */
const requiredByTier: Record<ReviewTier, number> = { auto: 0, light: 1, standard: 1, senior: 1 };

/** One open review request: who holds it and its estimated review minutes. */
export interface OpenRequest {
  reviewer: string;
  estimatedMinutes: number;
}

export interface SelectionInput {
  /** Only the connection is used (a service holding a bare Kysely passes `{ db }`). */
  store: Pick<Store, 'db'>;
  repoId: number;
  /** The files of the change (paths, optionally with line counts used to weight them). */
  files: readonly (string | ChangedPath)[];
  /** The change's authors (`Name <email>`, e-mail or `@login`): never chosen. */
  authors: readonly string[];
  tier?: ReviewTier | undefined;
  /** How many reviewers to choose (default: the tier's requirement, 1; ignored in the `auto` lane). For `senior`, the first is a senior or owner. */
  count?: number | undefined;
  /** Only people with a GitHub login may be chosen (a service requests reviewers by login). Default false. */
  requireLogin?: boolean | undefined;
  /** Open review requests, for load. */
  openRequests?: readonly OpenRequest[] | undefined;
  reviewHistory?: ReviewHistory | undefined;
  /** The `routing` config section as written (defaults filled in here). */
  config?: z.input<typeof RoutingConfig> | undefined;
  /** CODEOWNERS read at the base revision (readCodeOwnersAt). */
  codeOwners?: CodeOwners | null | undefined;
  /** A local clone and the base revision: enables blame (surviving lines) and formatting detection. */
  git?: { repoPath: string; base: string } | undefined;
  /** Shas known to be formatting-only (left out of expertise). */
  formattingShas?: readonly string[] | undefined;
  /** The decision time, Unix seconds (default: now). */
  now?: number | undefined;
}

export type ExclusionReason = 'bot' | 'author' | 'departed' | 'away' | 'inactive' | 'over-limit' | 'no-login';

/** A ranked candidate and what its score is made of. */
export interface Candidate {
  key: string;
  name: string;
  email: string;
  login: string | null;
  /** Expertise in the change's files and folders, 0..(1 + folder weight). */
  expertise: number;
  /** Expertise discounted by load: expertise / (1 + loadMinutes / loadHalfMinutes). */
  score: number;
  openReviews: number;
  loadMinutes: number;
  senior: boolean;
  owner: boolean;
}

export interface ChosenReviewer extends Candidate {
  role: 'primary' | 'silo-second';
  reasons: string[];
}

export interface Exclusion {
  key: string;
  name: string;
  reason: ExclusionReason;
  detail: string;
}

/** A changed file whose knowledge sits mostly with one person. */
export interface Silo {
  path: string;
  holder: string;
  share: number;
  holderAvailable: boolean;
}

export interface Selection {
  tier: ReviewTier;
  required: number;
  reviewers: ChosenReviewer[];
  /** The eligible people, best first (at most 10). */
  candidates: Candidate[];
  excluded: Exclusion[];
  silos: Silo[];
  /** Changes left out of expertise (formatting-only, .git-blame-ignore-revs). */
  ignoredChanges: string[];
  /** Set when the tier's requirement cannot be met (e.g. no available senior). */
  unmet: string | null;
  explanation: string[];
  timings: Record<string, number>;
}

interface Shares {
  lines: number;
  changes: number;
  reviews: number;
  score: number;
}

/** Each person's share of a path's knowledge by source, and the weighted file score. */
function sharesOf(target: PathEvidence, weights: RoutingConfig['weights'], useLines: boolean): Map<string, Shares> {
  const totals = { lines: 0, changes: 0, reviews: 0 };
  for (const e of target.byPerson.values()) {
    totals.lines += e.lines;
    totals.changes += e.changes;
    totals.reviews += e.reviews;
  }
  const sources: [keyof typeof totals, number][] = [];
  if (useLines && target.blamed && totals.lines > 0) sources.push(['lines', weights.lines]);
  if (totals.changes > 0) sources.push(['changes', weights.changes]);
  if (totals.reviews > 0) sources.push(['reviews', weights.reviews]);
  const weightSum = sources.reduce((sum, [, w]) => sum + w, 0);
  const result = new Map<string, Shares>();
  for (const [key, e] of target.byPerson) {
    const share = (s: keyof typeof totals): number => (totals[s] > 0 ? e[s] / totals[s] : 0);
    const score = weightSum === 0 ? 0 : sources.reduce((sum, [s, w]) => sum + w * share(s), 0) / weightSum;
    result.set(key, { lines: share('lines'), changes: share('changes'), reviews: share('reviews'), score });
  }
  return result;
}

const round = (value: number): number => Math.round(value * 1e9) / 1e9;
const pct = (value: number): string => `${Math.round(value * 100)}%`;

/** Scores everyone's expertise in the change from gathered evidence (pure; exported for tests and the report). */
export function scoreExpertise(
  evidence: ExpertiseEvidence,
  files: readonly ChangedPath[],
  config: RoutingConfig,
): { expertise: Map<string, number>; fileShares: Map<string, Map<string, Shares>>; folderShares: Map<string, Map<string, Shares>> } {
  const fileShares = new Map(evidence.files.map((f) => [f.path, sharesOf(f, config.weights, true)]));
  const folderShares = new Map([...evidence.folders].map(([folder, f]) => [folder, sharesOf(f, config.weights, false)]));
  const expertise = new Map<string, number>();
  let weightSum = 0;
  for (const file of files) {
    const weight = Math.max(1, (file.added ?? 0) + (file.deleted ?? 0));
    weightSum += weight;
    for (const [key, s] of fileShares.get(file.path) ?? []) expertise.set(key, (expertise.get(key) ?? 0) + weight * s.score);
    for (const [key, s] of folderShares.get(folderOf(file.path)) ?? []) expertise.set(key, (expertise.get(key) ?? 0) + weight * config.weights.folder * s.score);
  }
  for (const [key, value] of expertise) expertise.set(key, weightSum === 0 ? 0 : round(value / weightSum));
  return { expertise, fileShares, folderShares };
}

/** Parses the routing section, filling defaults (the core config keeps an absent section as `{}`). */
export function resolveRoutingConfig(raw: unknown): RoutingConfig {
  return RoutingConfig.parse(raw ?? {});
}

/**
 * Chooses reviewers for one change: expertise (surviving lines, recent changes and reviews, decayed;
 * formatting and ignored revisions left out) discounted by open review load; never the author, a
 * bot or agent, or someone departed, away or inactive; `senior` needs a senior or CODEOWNERS owner;
 * optionally a second reviewer for silo files. Deterministic: ties break on load, then identity key.
 */
export async function selectReviewers(input: SelectionInput): Promise<Selection> {
  const config = resolveRoutingConfig(input.config);
  const tier = input.tier ?? 'standard';
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const files: ChangedPath[] = input.files.map((f) => (typeof f === 'string' ? { path: f } : f));
  const codeOwners = input.codeOwners ?? null;
  const ownerSpecsByFile = new Map<string, string[]>();
  const ownerRules = new Map<string, number>();
  if (codeOwners !== null) {
    for (const file of files) {
      const { owners, rule } = ownersOf(codeOwners, file.path);
      ownerSpecsByFile.set(file.path, owners);
      if (rule !== null) ownerRules.set(file.path, rule.line);
    }
  }
  const ownerSpecs = [...new Set([...ownerSpecsByFile.values()].flat())];
  const requests = input.openRequests ?? [];
  const evidence = await gatherEvidence({
    store: input.store,
    repoId: input.repoId,
    paths: files.map((f) => f.path),
    config,
    now,
    reviewHistory: input.reviewHistory,
    git: input.git,
    formattingShas: input.formattingShas,
    extraSpecs: [...config.seniors, ...ownerSpecs, ...requests.map((r) => r.reviewer)],
  });
  const started = performance.now();
  const { expertise, fileShares, folderShares } = scoreExpertise(evidence, files, config);

  const load = new Map<string, { count: number; minutes: number }>();
  for (const request of requests) {
    const person = [...evidence.people.values()].find((p) => personMatches(p, request.reviewer));
    if (person === undefined) continue;
    const entry = load.get(person.key) ?? { count: 0, minutes: 0 };
    entry.count += 1;
    entry.minutes += Math.max(0, request.estimatedMinutes);
    load.set(person.key, entry);
  }

  const isOwner = (person: Person): boolean => ownerSpecs.some((spec) => personMatches(person, spec));
  const exclusionOf = (person: Person): Exclusion | null => {
    const out = (reason: ExclusionReason, detail: string): Exclusion => ({ key: person.key, name: person.name, reason, detail });
    if (person.kind !== 'person') return out('bot', `${person.kind}s never approve`);
    if (matchesAny(person, input.authors)) return out('author', 'wrote the change');
    if (matchesAny(person, config.departed)) return out('departed', 'listed in routing.departed');
    if (matchesAny(person, config.away)) return out('away', 'listed in routing.away');
    const last = evidence.lastActive.get(person.key);
    if (last !== undefined && last < now - config.inactiveAfterDays * 86_400) {
      return out('inactive', `no change or review for ${Math.floor((now - last) / 86_400)} days (routing.inactiveAfterDays: ${config.inactiveAfterDays})`);
    }
    if (input.requireLogin === true && (person.login === null || person.login === '')) return out('no-login', 'no GitHub login known, so cannot be requested');
    const open = load.get(person.key)?.count ?? 0;
    if (config.maxOpenReviews !== undefined && open >= config.maxOpenReviews) {
      return out('over-limit', `${open} open reviews (routing.maxOpenReviews: ${config.maxOpenReviews})`);
    }
    return null;
  };

  const candidates: Candidate[] = [];
  const excluded: Exclusion[] = [];
  const available = new Set<string>();
  for (const person of evidence.people.values()) {
    const senior = matchesAny(person, config.seniors);
    const owner = isOwner(person);
    const exp = expertise.get(person.key) ?? 0;
    const exclusion = exclusionOf(person);
    if (exclusion !== null) {
      if (exp > 0 || senior || owner || exclusion.reason === 'author') excluded.push(exclusion);
      continue;
    }
    available.add(person.key);
    const personLoad = load.get(person.key) ?? { count: 0, minutes: 0 };
    candidates.push({
      key: person.key,
      name: person.name,
      email: person.email,
      login: person.login,
      expertise: exp,
      score: round(exp / (1 + personLoad.minutes / config.loadHalfMinutes)),
      openReviews: personLoad.count,
      loadMinutes: personLoad.minutes,
      senior,
      owner,
    });
  }
  candidates.sort((a, b) => b.score - a.score || a.loadMinutes - b.loadMinutes || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  excluded.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  // Silos: one person holds most of a file's knowledge (departed people's shares stay: that knowledge is lost, not moved).
  const silos: Silo[] = [];
  for (const file of files) {
    const shares = [...(fileShares.get(file.path) ?? [])].sort((a, b) => b[1].score - a[1].score || (a[0] < b[0] ? -1 : 1));
    const top = shares[0];
    if (top === undefined || top[1].score < config.siloShare) continue;
    silos.push({ path: file.path, holder: top[0], share: round(top[1].score), holderAvailable: available.has(top[0]) });
  }

  const reasonsFor = (c: Candidate): string[] => {
    const reasons: string[] = [];
    const perFile = files
      .map((f) => ({ path: f.path, shares: fileShares.get(f.path)?.get(c.key), raw: evidence.files.find((e) => e.path === f.path)?.byPerson.get(c.key) }))
      .filter((f) => f.shares !== undefined && f.shares.score > 0)
      .sort((a, b) => (b.shares?.score ?? 0) - (a.shares?.score ?? 0))
      .slice(0, 3);
    for (const f of perFile) {
      const parts = [`${pct(f.shares?.score ?? 0)} of its expertise`];
      if ((f.raw?.rawLines ?? 0) > 0) parts.push(`${f.raw?.rawLines} surviving lines (${pct(f.shares?.lines ?? 0)})`);
      if ((f.raw?.rawChanges ?? 0) > 0) parts.push(`${f.raw?.rawChanges} changes`);
      if ((f.raw?.rawReviews ?? 0) > 0) parts.push(`${f.raw?.rawReviews} reviews`);
      reasons.push(`${f.path}: ${parts.join(', ')}`);
    }
    const folders = [...new Set(files.map((f) => folderOf(f.path)))].filter((folder) => (folderShares.get(folder)?.get(c.key)?.score ?? 0) > 0);
    for (const folder of folders.slice(0, 2)) {
      reasons.push(`${folder}/: ${pct(folderShares.get(folder)?.get(c.key)?.score ?? 0)} of recent changes and reviews`);
    }
    if (c.expertise === 0) reasons.push('no history in these files: chosen by availability and load');
    if (c.senior) reasons.push('senior (routing.seniors)');
    if (c.owner) {
      const owned = files.filter((f) => (ownerSpecsByFile.get(f.path) ?? []).some((spec) => personMatches(evidence.people.get(c.key) ?? ({} as Person), spec)));
      reasons.push(`owner of ${owned.map((f) => `${f.path} (${codeOwners?.source ?? 'CODEOWNERS'} line ${ownerRules.get(f.path) ?? '?'})`).join(', ')}`);
    }
    reasons.push(c.openReviews === 0 ? 'no open reviews' : `load: ${c.openReviews} open reviews, ~${Math.round(c.loadMinutes)} min (score x${(1 / (1 + c.loadMinutes / config.loadHalfMinutes)).toFixed(2)})`);
    return reasons;
  };

  const required = tier === 'auto' ? 0 : Math.max(requiredByTier[tier], Math.floor(input.count ?? 0));
  const reviewers: ChosenReviewer[] = [];
  const explanation: string[] = [];
  let unmet: string | null = null;
  explanation.push(`tier ${tier}: ${required === 0 ? 'auto lane, no human review required' : `${required} reviewer${required > 1 ? 's' : ''}${tier === 'senior' ? ', a senior or owner' : ''}`}`);
  if (required > 0) {
    // A senior change needs its first reviewer from the seniors and owners; any further ones may be anyone.
    const first = (tier === 'senior' ? candidates.filter((c) => c.senior || c.owner) : candidates)[0];
    if (first !== undefined) reviewers.push({ ...first, role: 'primary', reasons: reasonsFor(first) });
    if (first !== undefined || tier !== 'senior') {
      for (const c of candidates) {
        if (reviewers.length >= required) break;
        if (!reviewers.some((r) => r.key === c.key)) reviewers.push({ ...c, role: 'primary', reasons: reasonsFor(c) });
      }
    }
    if (reviewers.length < required) {
      unmet =
        tier === 'senior' && reviewers.length === 0
          ? 'no available senior or owner: add one to routing.seniors or CODEOWNERS, or bring back someone away'
          : reviewers.length === 0
            ? 'no available reviewer: every known person is the author, a bot, away, departed, inactive or at their limit'
            : `only ${reviewers.length} of ${required} reviewers available: everyone else is the author, a bot, away, departed, inactive or at their limit`;
      explanation.push(`unmet: ${unmet}`);
    }
    if (config.secondReviewerForSilos && silos.length > 0 && reviewers.length > 0) {
      const holders = new Set(silos.map((s) => s.holder));
      const second = candidates.find((c) => !reviewers.some((r) => r.key === c.key) && !holders.has(c.key));
      if (second === undefined) explanation.push(`silo files (${silos.map((s) => s.path).join(', ')}) but no one else available to learn them`);
      else {
        reviewers.push({ ...second, role: 'silo-second', reasons: [`second reviewer to spread knowledge of silo ${silos.map((s) => s.path).join(', ')}`, ...reasonsFor(second)] });
      }
    }
  }
  for (const r of reviewers) explanation.push(`${r.role === 'primary' ? 'chose' : 'added'} ${r.key} (score ${r.score.toFixed(3)}): ${r.reasons.join('; ')}`);
  for (const s of silos) {
    explanation.push(`silo: ${s.path} (${pct(s.share)} with ${s.holder}${s.holderAvailable ? '' : ', who is not available'})`);
  }
  for (const e of excluded) explanation.push(`not ${e.key}: ${e.reason} (${e.detail})`);
  if (evidence.excludedShas.length > 0) explanation.push(`left out ${evidence.excludedShas.length} formatting-only or ignored change(s)`);
  const unresolved = ownerSpecs.filter((spec) => ![...evidence.people.values()].some((p) => personMatches(p, spec)));
  if (unresolved.length > 0) explanation.push(`owners not resolved to a person (teams or unknown logins): ${unresolved.join(', ')}; list their members in routing.seniors`);
  const timings = { ...evidence.timings, score: performance.now() - started };
  return {
    tier,
    required,
    reviewers,
    candidates: candidates.slice(0, 10),
    excluded,
    silos,
    ignoredChanges: evidence.excludedShas,
    unmet,
    explanation,
    timings,
  };
}
