import { existsSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { configFileName, readConfigAt, type FlowgateConfig } from '../../core/config.ts';
import { toFlowgateError } from '../../core/errors.ts';
import { log } from '../../core/log.ts';
import { git } from '../../sources/git/git.ts';
import type { Database } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';
import { createChangeIndex, createFixDetector, type ChangeIndex } from '../labels/fixes.ts';
import type {
  FlowChange,
  FlowCheck,
  FlowData,
  FlowDeployment,
  FlowFileTouch,
  FlowIncident,
  FlowPullRequest,
  FlowReview,
  FlowRevert,
  ReviewState,
  Team,
} from './data.ts';

/** Environments whose deployments count as production. */
export const productionEnvironment = /^(prod|production|prd|live)$/i;

/** Release tags: semver-ish (`v1.2`, `1.2.3`, `v7.1.0.1`), pre-releases excluded. */
export const releaseTag = /^(?:[\w.-]*[-/@])?v?\d+\.\d+(?:\.\d+){0,2}$/;

/** Hotfix changes: a `hotfix` word or branch in the subject. */
const hotfix = /\bhot-?fix(es)?\b/i;

export interface LoadOptions {
  /** Only files of changes from this time on are read (the knowledge map's window). */
  filesSince?: number;
  /** Release tags older than this are not resolved against the mainline (saves git calls). */
  tagsSince?: number;
}

/** Loads everything the metrics need for one repository, deriving what events are missing. */
export async function loadFlowData(store: Store, repoId: number, options: LoadOptions = {}): Promise<FlowData> {
  const db = store.db;
  const repo = await db.selectFrom('repositories').selectAll().where('id', '=', repoId).executeTakeFirstOrThrow();
  const changes = await loadChanges(db, repoId);
  const events = await db
    .selectFrom('events')
    .select(['event_id', 'type', 'action', 'occurred_at', 'pr_number', 'actor', 'branch', 'sha', 'name', 'result', 'severity', 'ref', 'link'])
    .where('repo_id', '=', repoId)
    .orderBy('occurred_at')
    .orderBy('id')
    .execute();
  const byPosition = positionIndex(changes);

  const pullRequests = foldPullRequests(events.filter((e) => e.type === 'pull_request'));
  const derivedPrs = derivePullRequests(changes, pullRequests);
  const reviews: FlowReview[] = events
    .filter((e) => e.type === 'review')
    .map((e) => ({ prNumber: e.pr_number ?? 0, reviewer: e.actor ?? '', state: (e.result ?? 'commented') as ReviewState, at: e.occurred_at }));
  const checks: FlowCheck[] = events
    .filter((e) => e.type === 'check')
    .map((e) => ({ name: e.name ?? '', sha: e.sha ?? '', branch: e.branch, conclusion: e.result ?? '', at: e.occurred_at }));
  let deployments: FlowDeployment[] = events
    .filter((e) => e.type === 'deployment')
    .map((e) => ({
      id: e.event_id,
      environment: e.name ?? '',
      result: e.result === 'failure' ? 'failure' : 'success',
      sha: e.sha ?? '',
      at: e.occurred_at,
      position: byPosition(e.sha ?? ''),
      derived: false,
    }));
  let derivedDeployments = 0;
  if (!deployments.some((d) => productionEnvironment.test(d.environment)) && repo.path !== null && existsSync(repo.path)) {
    const fromTags = await deploymentsFromTags(repo.path, repo.branch, byPosition, options.tagsSince ?? 0);
    derivedDeployments = fromTags.length;
    deployments = [...deployments, ...fromTags];
  }
  const reverts = await loadReverts(db, repoId, changes);
  let incidents = foldIncidents(events.filter((e) => e.type === 'incident'));
  let derivedIncidents = 0;
  if (incidents.length === 0) {
    incidents = deriveIncidents(changes, reverts);
    derivedIncidents = incidents.length;
  }
  const labels = await loadDefectLabels(db, repoId);
  const tiers = await loadTiers(db, repoId, changes);
  const teams = repo.path !== null && existsSync(repo.path) ? loadTeams(repo.path, repo.branch) : { teams: [], problem: null };
  return {
    repoId,
    repoKey: repo.key,
    branch: repo.branch,
    changes,
    pullRequests: [...pullRequests.values(), ...derivedPrs],
    reviews,
    checks,
    deployments: deployments.sort((a, b) => a.at - b.at),
    incidents,
    reverts,
    files: await loadFiles(db, repoId, options.filesSince ?? 0),
    teams: teams.teams,
    defectInducing: labels ?? new Set(),
    labels: labels === null ? 'not-yet-computed' : 'available',
    tiers: tiers ?? new Map<number, string>(),
    lanes: tiers === null ? 'not-yet-computed' : 'available',
    derived: { pullRequests: derivedPrs.length, deployments: derivedDeployments, incidents: derivedIncidents },
    problems: teams.problem === null ? [] : [teams.problem],
  };
}

async function loadChanges(db: Kysely<Database>, repoId: number): Promise<FlowChange[]> {
  // Selected under FlowChange's names: rows are used as they come, without a second object per change.
  return db
    .selectFrom('changes')
    .select([
      'id',
      'sha',
      'position',
      'kind',
      'pr_number as prNumber',
      'author_id as authorId',
      'author_name as author',
      'author_email as authorEmail',
      'commit_time as commitTime',
      'coding_started_at as codingStartedAt',
      'lines_added as linesAdded',
      'lines_deleted as linesDeleted',
      'provenance',
      'tool',
      'subject',
    ])
    .where('repo_id', '=', repoId)
    .orderBy('position')
    .execute();
}

/** One sha/PR/subject index per loaded change list: loading, attribution and every computed view share it. */
const changeIndexes = new WeakMap<readonly FlowChange[], ChangeIndex>();

/** The labels module's change index over the mainline changes, built once per change list. */
export function changeIndexOf(changes: readonly FlowChange[]): ChangeIndex {
  let index = changeIndexes.get(changes);
  if (index === undefined) {
    index = createChangeIndex(changes, []);
    changeIndexes.set(changes, index);
  }
  return index;
}

/** Resolves a full or abbreviated sha to its mainline position (null when not on the mainline). */
export function positionIndex(changes: readonly FlowChange[]): (sha: string) => number | null {
  const index = changeIndexOf(changes);
  return (sha) => (sha === '' ? null : (index.bySha(sha.toLowerCase()) ?? null));
}

interface EventRow {
  event_id: string;
  action: string | null;
  occurred_at: number;
  pr_number: number | null;
  actor: string | null;
  branch: string | null;
  sha: string | null;
  result: string | null;
  severity: string | null;
  ref: string | null;
  link: string | null;
}

/** Folds pull_request events (in time order) into one record per PR number. */
export function foldPullRequests(rows: readonly EventRow[]): Map<number, FlowPullRequest> {
  const prs = new Map<number, FlowPullRequest>();
  for (const e of rows) {
    const number = e.pr_number ?? 0;
    const pr = prs.get(number) ?? {
      number,
      author: null,
      headBranch: null,
      openedAt: null,
      readyAt: null,
      closedAt: null,
      mergedAt: null,
      mergeSha: null,
      derived: false,
    };
    pr.author ??= e.actor;
    pr.headBranch ??= e.branch;
    if (e.action === 'opened') {
      pr.openedAt = Math.min(pr.openedAt ?? e.occurred_at, e.occurred_at);
      // A draft becomes reviewable at `ready`; anything else is reviewable from the start.
      if (e.result !== 'draft') pr.readyAt = Math.min(pr.readyAt ?? e.occurred_at, e.occurred_at);
    } else if (e.action === 'ready') {
      pr.readyAt = Math.min(pr.readyAt ?? e.occurred_at, e.occurred_at);
    } else if (e.action === 'merged') {
      pr.mergedAt = e.occurred_at;
      pr.closedAt = e.occurred_at;
      pr.mergeSha = e.sha ?? pr.mergeSha;
    } else if (e.action === 'closed') {
      pr.closedAt ??= e.occurred_at;
    }
    prs.set(number, pr);
  }
  for (const pr of prs.values()) if (pr.readyAt === null && pr.openedAt !== null && pr.mergedAt !== null) pr.readyAt = pr.openedAt;
  return prs;
}

/** PRs known only from merge and squash messages: merged at the change's commit time, never opened as far as we know. */
export function derivePullRequests(changes: readonly FlowChange[], known: ReadonlyMap<number, FlowPullRequest>): FlowPullRequest[] {
  const out: FlowPullRequest[] = [];
  for (const c of changes) {
    if (c.prNumber === null || known.has(c.prNumber)) continue;
    out.push({
      number: c.prNumber,
      author: c.author,
      headBranch: null,
      openedAt: null,
      readyAt: null,
      closedAt: c.commitTime,
      mergedAt: c.commitTime,
      mergeSha: c.sha,
      derived: true,
    });
  }
  return out;
}

/** Folds incident events by incident key: first `opened`, last `resolved`. */
export function foldIncidents(rows: readonly EventRow[]): FlowIncident[] {
  const incidents = new Map<string, FlowIncident>();
  for (const e of rows) {
    const key = e.ref ?? e.event_id;
    const incident = incidents.get(key) ?? {
      key,
      openedAt: e.occurred_at,
      resolvedAt: null,
      severity: null,
      deploymentId: null,
      sha: null,
      fixedAtPosition: null,
      derivedFrom: null,
    };
    if (e.action === 'opened') incident.openedAt = Math.min(incident.openedAt, e.occurred_at);
    if (e.action === 'resolved') incident.resolvedAt = Math.max(incident.resolvedAt ?? e.occurred_at, e.occurred_at);
    incident.severity = e.severity ?? incident.severity;
    incident.deploymentId = e.link ?? incident.deploymentId;
    incident.sha = e.sha ?? incident.sha;
    incidents.set(key, incident);
  }
  return [...incidents.values()].sort((a, b) => a.openedAt - b.openedAt);
}

/**
 * Failures derived from git when no incident events exist: a revert is a failure of the reverted
 * change from its merge until the revert; a hotfix is a failure from when work on it started
 * until it landed (the failure was known no later than that).
 */
export function deriveIncidents(changes: readonly FlowChange[], reverts: readonly FlowRevert[]): FlowIncident[] {
  const byId = new Map(changes.map((c) => [c.id, c]));
  const out: FlowIncident[] = [];
  const reverting = new Set<number>();
  for (const r of reverts) {
    const reverted = byId.get(r.revertedChangeId);
    reverting.add(r.revertingChangeId);
    if (reverted === undefined) continue;
    out.push({
      key: `revert:${byId.get(r.revertingChangeId)?.sha.slice(0, 12) ?? r.revertingChangeId}`,
      openedAt: reverted.commitTime,
      resolvedAt: r.at,
      severity: null,
      deploymentId: null,
      sha: reverted.sha,
      fixedAtPosition: byId.get(r.revertingChangeId)?.position ?? null,
      derivedFrom: 'revert',
    });
  }
  for (const c of changes) {
    if (reverting.has(c.id) || !hotfix.test(c.subject)) continue;
    out.push({
      key: `hotfix:${c.sha.slice(0, 12)}`,
      openedAt: Math.min(c.codingStartedAt, c.commitTime),
      resolvedAt: c.commitTime,
      severity: null,
      deploymentId: null,
      sha: null,
      fixedAtPosition: c.position,
      derivedFrom: 'hotfix',
    });
  }
  return out.sort((a, b) => a.openedAt - b.openedAt);
}

/** Reverts among the mainline changes, found by the labels module's revert rules. */
async function loadReverts(db: Kysely<Database>, repoId: number, changes: readonly FlowChange[]): Promise<FlowRevert[]> {
  const candidates = await db
    .selectFrom('changes')
    .select(['id', 'position', 'subject', 'body', 'commit_time'])
    .where('repo_id', '=', repoId)
    .where((eb) => eb.or([eb('subject', 'like', '%Revert%'), eb('subject', 'like', '%revert%'), eb('body', 'like', '%This reverts commit%')]))
    .execute();
  if (candidates.length === 0) return [];
  const detect = createFixDetector({ fixKeywords: [], issuePatterns: [] });
  const index = changeIndexOf(changes);
  const idByPosition = new Map(changes.map((c) => [c.position, c.id]));
  const out: FlowRevert[] = [];
  for (const c of candidates) {
    const fix = detect({ position: c.position, subject: c.subject, body: c.body }, index);
    if (fix?.kind !== 'revert' || fix.reverts === null) continue;
    const reverted = idByPosition.get(fix.reverts);
    if (reverted !== undefined) out.push({ revertedChangeId: reverted, revertingChangeId: c.id, at: c.commit_time });
  }
  return out;
}

/**
 * Deployments derived from release tags when no production deployment events exist: a tag on the
 * mainline deploys up to its own position; a tag on a release branch deploys up to where that branch
 * left the mainline (its fork point), which is all a release branch can carry from it.
 */
async function deploymentsFromTags(
  repoPath: string,
  branch: string | null,
  byPosition: (sha: string) => number | null,
  since: number,
): Promise<FlowDeployment[]> {
  const out = await git(repoPath, ['for-each-ref', '--format=%(refname:short)%00%(creatordate:unix)%00%(objectname)%00%(*objectname)', 'refs/tags'], {
    allowFailure: true,
  });
  const tags: { name: string; sha: string; at: number; position: number | null }[] = [];
  for (const line of out.split('\n')) {
    const [name, date, object, peeled] = line.split('\0');
    if (name === undefined || date === undefined || !releaseTag.test(name)) continue;
    const sha = peeled !== undefined && peeled !== '' ? peeled : (object ?? '');
    const at = Number(date);
    if (sha === '' || !Number.isFinite(at) || at < since) continue;
    tags.push({ name, sha, at, position: byPosition(sha) });
  }
  const off = tags.filter((t) => t.position === null);
  if (off.length > 0) {
    // One walk for all release-branch tags: follow first parents until the mainline.
    const walk = await git(repoPath, ['rev-list', '--first-parent', '--parents', ...new Set(off.map((t) => t.sha)), `^${branch ?? 'HEAD'}`], { allowFailure: true });
    const firstParent = new Map<string, string>();
    for (const line of walk.split('\n')) {
      const [sha, parent] = line.split(' ');
      if (sha !== undefined && parent !== undefined) firstParent.set(sha, parent);
    }
    for (const t of off) {
      let sha = t.sha;
      for (let steps = 0; steps < 1_000_000 && firstParent.has(sha); steps++) sha = firstParent.get(sha) ?? '';
      t.position = byPosition(sha);
    }
  }
  return tags.map((t) => ({ id: `tag:${t.name}`, environment: 'production', result: 'success', sha: t.sha, at: t.at, position: t.position, derived: true }));
}

async function loadFiles(db: Kysely<Database>, repoId: number, since: number): Promise<FlowFileTouch[]> {
  const rows = await db
    .selectFrom('change_files')
    .innerJoin('changes', 'changes.id', 'change_files.change_id')
    .select(['change_files.change_id', 'change_files.path', 'change_files.added'])
    .where('changes.repo_id', '=', repoId)
    .where('changes.commit_time', '>=', since)
    .execute();
  return rows.map((r) => ({ changeId: r.change_id, path: r.path, added: r.added }));
}

/** True when the store has the table (another module's migration may not have created it yet). */
async function hasTable(db: Kysely<Database>, name: string): Promise<boolean> {
  const tables = await db.introspection.getTables();
  return tables.some((t) => t.name === name);
}

/** Change ids the learning module labelled defect-inducing; null when it has not run for this repository. */
async function loadDefectLabels(db: Kysely<Database>, repoId: number): Promise<Set<number> | null> {
  if (!(await hasTable(db, 'defect_labels'))) return null;
  try {
    const state = await db.selectFrom('learning_state').select('position').where('repo_id', '=', repoId).executeTakeFirst();
    const rows = await db.selectFrom('defect_labels').select('inducing_change_id').where('repo_id', '=', repoId).execute();
    if (state === undefined && rows.length === 0) return null;
    return new Set(rows.map((r) => r.inducing_change_id));
  } catch (error) {
    log.warn({ err: error }, 'defect labels unreadable; shown as not yet computed');
    return null;
  }
}

/**
 * The review tier the gate gave each change: decisions whose subject is the change's sha or
 * `...#<pr>@...`; the latest decision wins. Null when the gate has decided nothing for this repository.
 */
async function loadTiers(db: Kysely<Database>, repoId: number, changes: readonly FlowChange[]): Promise<Map<number, string> | null> {
  if (!(await hasTable(db, 'decisions'))) return null;
  let rows: { subject: string; tier: string | null }[];
  try {
    rows = await db
      .selectFrom('decisions')
      .select(['subject', 'tier'])
      .where((eb) => eb.or([eb('repo_id', '=', repoId), eb('repo_id', 'is', null)]))
      .where('tier', 'is not', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  } catch (error) {
    log.warn({ err: error }, 'gate decisions unreadable; lanes shown as not yet computed');
    return null;
  }
  if (rows.length === 0) return null;
  const bySha = new Map(changes.map((c) => [c.sha, c.id]));
  const byPr = new Map<number, number>();
  for (const c of changes) if (c.prNumber !== null) byPr.set(c.prNumber, c.id);
  const tiers = new Map<number, string>();
  for (const r of rows) {
    const pr = /#(\d+)(?:@|$)/.exec(r.subject);
    const id = pr !== null ? byPr.get(Number(pr[1])) : bySha.get(r.subject);
    if (id !== undefined && r.tier !== null) tiers.set(id, r.tier);
  }
  return tiers.size === 0 ? null : tiers;
}

/** Teams from the policy config at the branch tip, or why there are none to use. */
export interface TeamsRead {
  teams: Team[];
  /** Set when the config could not be used: says what was skipped and why. */
  problem: string | null;
}

/**
 * Teams from .flowgate.yml's typed `teams` section (the policy's definition) at the branch tip. An
 * invalid config gives no teams and a problem that names it (the report prints and shows it) rather
 * than silently dropping them.
 */
export function loadTeams(repoPath: string, branch: string | null): TeamsRead {
  const rev = branch ?? 'HEAD';
  let config: FlowgateConfig;
  try {
    config = readConfigAt(repoPath, rev);
  } catch (error) {
    const failure = toFlowgateError(error);
    const problem = `${configFileName} at ${rev} cannot be used, so throughput per team and --pilot have no teams: ${failure.message}`;
    return { teams: [], problem };
  }
  return { teams: teamsFrom(config.teams), problem: null };
}

/** The config's `teams` record as a list, in the order the file declares them. */
export function teamsFrom(teams: FlowgateConfig['teams']): Team[] {
  return Object.entries(teams).map(([name, team]) => ({ name, members: team.members }));
}
