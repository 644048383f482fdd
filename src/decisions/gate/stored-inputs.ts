import { PostgresAdapter, type Kysely } from 'kysely';
import { currentModel, featuresForChange, prepareFeaturesForChange, scoreChange } from '../../analyses/labels/model.ts';
import type { ProposedPaths } from '../../analyses/labels/proposed.ts';
import { predictRisk } from '../../analyses/risk/learner.ts';
import { postgresDialect, sqliteDialect } from '../../store/dialect.ts';
import type { Database } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';
import { tiers, type Policy } from '../policy/policy.ts';
import type { Tier } from '../policy/schema.ts';
import { computeTrust, type Trust, type TrustRecord } from '../trust/trust.ts';
import { authorOf, decideChange } from './decide.ts';
import type { ChangeAuthor, GateFile, GateProvenance, RiskEstimate } from './types.ts';
import { findRepository } from '../../store/repositories.ts';
import { authorEmailKey } from '../../store/migrations/0008-feature-read-paths.ts';

/*
 * Risk and trust for the gate from what the store knows, with no git and no clone: the CLI
 * (`flowgate check` / `explain`) and the GitHub service both call this with plain change facts.
 */

/** One file of the change; GateFile (and what the GitHub API lists) fits. */
export interface StoredInputsFile {
  path: string;
  oldPath: string | null;
  /** A added, M modified, D deleted, R renamed, C copied, T type change. */
  status: string;
  added: number;
  deleted: number;
}

/** The plain facts of a change that stored risk and trust need (ChangeFacts plus a time fits). */
export interface StoredInputsChange {
  files: readonly StoredInputsFile[];
  author: ChangeAuthor;
  provenance: GateProvenance;
  /** When it lands, Unix seconds: now for a pull request, the commit time for a landed change. */
  time: number;
  /** The subject or PR title (a feature: stated purpose). */
  title?: string;
  /** Commits it brings (default 1). */
  commits?: number;
  /** How it lands: direct, merge, squash (default squash). */
  kind?: string;
  /**
   * The sha of a change that already landed (`flowgate explain`). When the store holds it, its
   * stored features are used and only the history before it counts; otherwise it is treated as new.
   */
  sha?: string | null;
}

/** Risk and trust from the store, with notes saying where each came from. */
export interface StoredGateInputs {
  /** The repository's row, or null when it was never analyzed into this store. */
  repoId: number | null;
  risk: RiskEstimate | null;
  /** The author agent's trust; null when the author is not an agent or the repository was never analyzed. */
  trust: Trust | null;
  /** The agent whose record was read, when the author is one. */
  agent: string | null;
  /** Human-readable lines for the decision's explanation. */
  notes: string[];
}

/** How many top risk factors go into the explanation. */
const topFactorCount = 5;
const inChunk = 500;

/** The model API reads through a Store; everything it uses is `db`, so a transaction or bare connection serves. */
function storeOver(db: Kysely<Database>): Store {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    db,
    dialect: postgres ? postgresDialect : sqliteDialect,
    url: postgres ? 'postgres' : 'sqlite',
    // The caller owns the connection: closing is not ours to do.
    close: () => Promise.resolve(),
  };
}

/** Splits ids for IN lists (SQLite bounds the number of bound values). */
function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += inChunk) out.push(items.slice(i, i + inChunk));
  return out;
}

/** The stored change with this sha in the repository, if any. */
async function storedChange(db: Kysely<Database>, repoId: number, sha: string | null | undefined): Promise<{ id: number; position: number; time: number } | null> {
  if (sha === null || sha === undefined || sha === '') return null;
  const row = await db.selectFrom('changes').select(['id', 'position', 'commit_time']).where('repo_id', '=', repoId).where('sha', '=', sha).executeTakeFirst();
  return row === undefined ? null : { id: row.id, position: row.position, time: row.commit_time };
}

/** The stored identity id of the author (by e-mail, canonical e-mail or GitHub login), or -1 for someone the history has never seen. */
export async function authorIdOf(db: Kysely<Database>, repoId: number, author: ChangeAuthor): Promise<number> {
  const email = author.email.trim().toLowerCase();
  const login = author.login?.trim().replace(/^@/, '').toLowerCase() ?? '';
  if (email === '' && login === '') return -1;
  // The identities first (a small table, their canonical e-mail and login), then the e-mail a change
  // was written with (the repository's changes by an expression index, migration 0008).
  const identities = await db
    .selectFrom('identities')
    .select('id')
    .where((eb) => {
      const ors = [];
      if (email !== '') ors.push(eb(eb.fn('lower', ['email']), '=', email));
      if (login !== '') ors.push(eb(eb.fn('lower', ['github_login']), '=', login));
      return eb.or(ors);
    })
    .execute();
  for (const part of chunks(identities.map((i) => i.id))) {
    const row = await db.selectFrom('changes').select('author_id').where('repo_id', '=', repoId).where('author_id', 'in', part).limit(1).executeTakeFirst();
    if (row !== undefined) return row.author_id;
  }
  if (email === '') return -1;
  const row = await db.selectFrom('changes').select('author_id').where('repo_id', '=', repoId).where(authorEmailKey(), '=', email).limit(1).executeTakeFirst();
  return row?.author_id ?? -1;
}

/** The top contributions as the decision shows them, largest magnitude first. */
function topFactors(contributions: readonly { feature: string; value: number; contribution: number }[]): RiskEstimate['topFactors'] {
  return [...contributions]
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.feature.localeCompare(b.feature))
    .slice(0, topFactorCount)
    .map(({ feature, value, contribution }) => ({ feature, value, contribution }));
}

/**
 * The change's risk from the repository's latest trained model in the store, else the shipped
 * default model, with its top factors. Features come from the stored row of a landed change, or
 * are computed for a proposed one as if it landed after the stored history (featuresForChange).
 */
export async function storedRisk(db: Kysely<Database>, repoId: number, change: StoredInputsChange): Promise<RiskEstimate> {
  const store = storeOver(db);
  const landed = await storedChange(db, repoId, change.sha);
  let features: Record<string, number> | null = null;
  if (landed !== null) {
    const row = await db.selectFrom('change_features').select('features').where('change_id', '=', landed.id).executeTakeFirst();
    if (row !== undefined) features = JSON.parse(row.features) as Record<string, number>;
  }
  features ??= await featuresForChange(store, repoId, {
    time: change.time,
    authorId: await authorIdOf(db, repoId, change.author),
    kind: change.kind ?? 'squash',
    provenance: change.provenance.class,
    commits: change.commits ?? 1,
    ...(change.title === undefined ? {} : { title: change.title }),
    files: change.files.map((f) => ({ path: f.path, oldPath: f.oldPath, status: f.status, added: f.added, deleted: f.deleted })),
  });
  const scored = await scoreChange(store, repoId, features);
  return {
    probability: scored.probability,
    topFactors: topFactors(scored.contributions),
    source: scored.source === 'repository' ? 'repository-model' : 'default-model',
    ...(scored.modelId === null ? {} : { modelId: scored.modelId }),
  };
}

/** One earlier change of the agent, as stored. */
interface PastChange {
  id: number;
  sha: string;
  prNumber: number | null;
  time: number;
  author: ChangeAuthor;
  provenance: GateProvenance;
  files: GateFile[];
  /** The tier a recorded gate decision gave it, if one was recorded. */
  recorded: Tier | null;
  /** When it became known to be defect-inducing (the earliest fix), or null. */
  defectKnownAt: number | null;
  /** When it was reverted, or null. */
  revertedAt: number | null;
}

const isTier = (value: string | null): value is Tier => value !== null && (tiers as readonly string[]).includes(value);

/** The stored changes before `before` (a position; null: all) that the policy attributes to `agentId`. */
async function agentChanges(db: Kysely<Database>, repoId: number, policy: Policy, agentId: string, before: number | null): Promise<PastChange[]> {
  const agent = policy.agents.find((a) => a.config.id === agentId);
  const accounts = [...(agent?.accounts ?? [])];
  // SQL narrows to what could be the agent (its accounts, or agent provenance); authorOf decides, as the gate does.
  let query = db
    .selectFrom('changes')
    .innerJoin('identities', 'identities.id', 'changes.author_id')
    .select(['changes.id', 'changes.sha', 'changes.pr_number', 'changes.commit_time', 'changes.position', 'changes.author_name', 'changes.author_email', 'changes.provenance', 'changes.tool', 'identities.email as identityEmail', 'identities.github_login'])
    .where('changes.repo_id', '=', repoId)
    .where((eb) => {
      const ors = [eb('changes.provenance', '=', 'agent')];
      if (accounts.length > 0) {
        ors.push(eb(eb.fn('lower', ['changes.author_email']), 'in', accounts), eb(eb.fn('lower', ['identities.email']), 'in', accounts), eb(eb.fn('lower', ['identities.github_login']), 'in', accounts));
      }
      return eb.or(ors);
    });
  if (before !== null) query = query.where('changes.position', '<', before);
  // The raw e-mail first, then the canonical one (after .mailmap): the replayed decision must see the same agent.
  const rows = (await query.orderBy('changes.position').execute()).flatMap((r) => {
    const provenance: GateProvenance = { class: r.provenance, tool: r.tool };
    for (const email of [r.author_email, r.identityEmail]) {
      const author: ChangeAuthor = { name: r.author_name, email, login: r.github_login };
      if (authorOf(policy, { author, provenance }).agent?.config.id === agentId) return [{ ...r, author, provenance }];
    }
    return [];
  });
  if (rows.length === 0) return [];

  const ids = rows.map((r) => r.id);
  const files = new Map<number, GateFile[]>();
  const defects = new Map<number, number>();
  const reverts = new Map<number, number>();
  const brought = new Map<number, string[]>();
  for (const part of chunks(ids)) {
    for (const f of await db.selectFrom('change_files').select(['change_id', 'path', 'old_path', 'status', 'added', 'deleted', 'binary']).where('change_id', 'in', part).execute()) {
      const list = files.get(f.change_id) ?? [];
      list.push({ path: f.path, oldPath: f.old_path, status: f.status, added: f.added ?? 0, deleted: f.deleted ?? 0, binary: f.binary === 1 || f.added === null, whitespaceOnly: false });
      files.set(f.change_id, list);
    }
    for (const l of await db.selectFrom('defect_labels').select(['inducing_change_id', 'known_at']).where('repo_id', '=', repoId).where('inducing_change_id', 'in', part).execute()) {
      const known = defects.get(l.inducing_change_id);
      if (known === undefined || l.known_at < known) defects.set(l.inducing_change_id, l.known_at);
    }
    const reverted = await db
      .selectFrom('fixes')
      .innerJoin('changes', 'changes.id', 'fixes.change_id')
      .select(['fixes.reverts_change_id', 'changes.commit_time'])
      .where('fixes.repo_id', '=', repoId)
      .where('fixes.kind', '=', 'revert')
      .where('fixes.reverts_change_id', 'in', part)
      .execute();
    for (const r of reverted) {
      if (r.reverts_change_id === null) continue;
      const at = reverts.get(r.reverts_change_id);
      if (at === undefined || r.commit_time < at) reverts.set(r.reverts_change_id, r.commit_time);
    }
    for (const c of await db.selectFrom('change_commits').select(['change_id', 'sha']).where('change_id', 'in', part).execute()) {
      brought.set(c.change_id, [...(brought.get(c.change_id) ?? []), c.sha]);
    }
  }

  // Recorded decisions: `flowgate check --db` writes the head sha as subject, the service `owner/name#12@sha`.
  const bySha = new Map<string, Tier>();
  const byPr = new Map<number, Tier>();
  const decisions = await db.selectFrom('decisions').select(['subject', 'tier']).where('repo_id', '=', repoId).where('tier', 'is not', null).orderBy('id').execute();
  for (const d of decisions) {
    if (!isTier(d.tier)) continue;
    const match = /#(\d+)@([0-9a-f]{7,64})$/i.exec(d.subject);
    if (match !== null) {
      byPr.set(Number(match[1]), d.tier);
      bySha.set((match[2] ?? '').toLowerCase(), d.tier);
    } else {
      bySha.set(d.subject.toLowerCase(), d.tier);
    }
  }

  return rows.map((r) => {
    const shas = [r.sha, ...(brought.get(r.id) ?? [])].map((s) => s.toLowerCase());
    const recorded = shas.map((s) => bySha.get(s)).find((t) => t !== undefined) ?? (r.pr_number === null ? undefined : byPr.get(r.pr_number));
    return {
      id: r.id,
      sha: r.sha,
      prNumber: r.pr_number,
      time: r.commit_time,
      author: r.author,
      provenance: r.provenance,
      files: files.get(r.id) ?? [],
      recorded: recorded ?? null,
      defectKnownAt: defects.get(r.id) ?? null,
      revertedAt: reverts.get(r.id) ?? null,
    };
  });
}

/** A probability per stored change from its stored features and the current model (none for changes without features). */
async function scoresOf(db: Kysely<Database>, repoId: number, changeIds: readonly number[]): Promise<Map<number, number>> {
  const scores = new Map<number, number>();
  if (changeIds.length === 0) return scores;
  const store = storeOver(db);
  const current = await currentModel(store, repoId);
  for (const part of chunks(changeIds)) {
    for (const row of await db.selectFrom('change_features').select(['change_id', 'features']).where('change_id', 'in', part).execute()) {
      const features = JSON.parse(row.features) as Record<string, number>;
      const probability = current.model !== null ? predictRisk(current.model, { features }).probability : (await scoreChange(store, repoId, features)).probability;
      scores.set(row.change_id, probability);
    }
  }
  return scores;
}

/**
 * The author agent's trust (computeTrust) from its stored record: its earlier changes in the
 * repository, the lane each went through (a recorded gate decision when there is one, else the
 * tier this policy gives it, replayed in order with the trust the agent had then), defect-inducing
 * labels and reverts known by `change.time`. Null when the policy does not see an agent as the author.
 */
export async function storedTrust(db: Kysely<Database>, repoId: number, policy: Policy, change: StoredInputsChange): Promise<{ trust: Trust; agent: string; changes: number; recorded: number } | null> {
  const author = authorOf(policy, change);
  if (author.kind !== 'agent' || author.agent === null) return null;
  const agentId = author.agent.config.id;
  const landed = await storedChange(db, repoId, change.sha);
  const past = await agentChanges(db, repoId, policy, agentId, landed?.position ?? null);
  const asOf = change.time;
  const scores = await scoresOf(db, repoId, past.filter((p) => p.recorded === null).map((p) => p.id));

  const records: TrustRecord[] = [];
  const recordAt = (p: PastChange, lane: Tier, at: number): TrustRecord => ({
    lane,
    defectInducing: p.defectKnownAt !== null && p.defectKnownAt <= at,
    reverted: p.revertedAt !== null && p.revertedAt <= at,
    time: p.time,
  });
  const lanes: Tier[] = [];
  // Trust only ever moves an agent's change from auto to light: judge each change as if trusted,
  // and work out the trust it had then (a walk over its record so far) only when it came out auto.
  const asTrusted = computeTrust([], { config: { trust: { ...policy.config.trust, minChanges: 0 } } });
  for (const p of past) {
    let lane = p.recorded;
    if (lane === null) {
      const probability = scores.get(p.id);
      const judge = (trust: Trust): Tier =>
        decideChange({
          policy,
          change: { base: p.sha, head: p.sha, mergeBase: p.sha, author: p.author, provenance: p.provenance, files: p.files, codeOwners: null, changedSince: {} },
          risk: probability === undefined ? null : { probability, topFactors: [] },
          approvals: [],
          checks: [],
          trust,
        }).tier;
      lane = judge(asTrusted);
      if (lane === 'auto') {
        // What the gate would have said then: the trust the agent had at that time, from what was known then.
        const then = past.slice(0, lanes.length).map((q, i) => recordAt(q, lanes[i] ?? 'senior', p.time));
        const trustThen = computeTrust(then, policy);
        if (!trustThen.autoLane) lane = judge(trustThen);
      }
    }
    lanes.push(lane);
    records.push(recordAt(p, lane, asOf));
  }
  return { trust: computeTrust(records, policy), agent: agentId, changes: past.length, recorded: past.filter((p) => p.recorded !== null).length };
}

/** What storedGateInputs should read; a part given another way (a CLI flag) is skipped. */
export interface StoredInputsWanted {
  risk?: boolean;
  trust?: boolean;
}

/**
 * Reads ahead what storedGateInputs will need of the repository's history (the CLI calls it while
 * git diffs the change): first what any change needs, then, once `files` (where the change's files
 * are and were) resolves, the history they select. Does nothing for a repository never analyzed.
 */
export async function prepareStoredGateInputs(db: Kysely<Database>, repoKey: string, files?: Promise<ProposedPaths>): Promise<void> {
  const repo = await findRepository(db, repoKey);
  if (repo === undefined) return;
  await prepareFeaturesForChange(db, repo.id);
  if (files !== undefined) await prepareFeaturesForChange(db, repo.id, await files);
}

/**
 * Everything the gate takes from the store for one change of the repository stored under `repoKey`
 * (absolute real path of a local clone, or `owner/name`): risk (storedRisk) and the author agent's
 * trust (storedTrust), with notes for the explanation. A repository never analyzed into this store
 * gives null risk and trust and a note saying so: the gate then decides by rules alone. Reads only
 * (pass a transaction to read inside it); `policy` is the one in force (the base revision's).
 */
export async function storedGateInputs(db: Kysely<Database>, repoKey: string, policy: Policy, change: StoredInputsChange, wanted: StoredInputsWanted = {}): Promise<StoredGateInputs> {
  const repo = await findRepository(db, repoKey);
  const analyzed = repo === undefined ? false : (await db.selectFrom('changes').select('id').where('repo_id', '=', repo.id).limit(1).executeTakeFirst()) !== undefined;
  if (repo === undefined || !analyzed) {
    return {
      repoId: repo?.id ?? null,
      risk: null,
      trust: null,
      agent: null,
      notes: [`${repoKey} was never analyzed into this store: no risk estimate and no agent record, decided by rules alone (run \`flowgate analyze\`)`],
    };
  }
  const notes: string[] = [];
  let risk: RiskEstimate | null = null;
  if (wanted.risk !== false) {
    risk = await storedRisk(db, repo.id, change);
    notes.push(
      risk.source === 'repository-model'
        ? `risk from the repository's own model (model ${risk.modelId ?? '?'}) in the store`
        : 'risk from the default model: the repository has no trained model of its own yet',
    );
  }
  const trusted = wanted.trust === false ? null : await storedTrust(db, repo.id, policy, change);
  if (trusted !== null) {
    notes.push(`trust of agent ${trusted.agent} from its ${trusted.changes} earlier change${trusted.changes === 1 ? '' : 's'} in the store (${trusted.recorded} with a recorded gate decision, the others judged by this policy)`);
  }
  return { repoId: repo.id, risk, trust: trusted?.trust ?? null, agent: trusted?.agent ?? null, notes };
}
