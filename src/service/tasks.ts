import { sql, type Kysely, type RawBuilder } from 'kysely';
import { FlowgateError } from '../core/errors.ts';
import { log } from '../core/log.ts';
import type { GitHubClients } from '../sources/github/client.ts';
import { appendAuditBatch, isPostgres } from '../decisions/audit/log.ts';
import { fetchPullRequestFacts, publishVerdict, repoKey, type PublishResult, type PullRef } from '../sources/github/pull-request.ts';
import { ensureRepository } from '../store/repositories.ts';
import type { Database } from '../store/schema.ts';
import type { Decider, GateVerdict, PullRequestFacts } from './decider.ts';
import { runUnit, transactionBatcher, type BatchFinish, type TransactionBatcher, type TransactionUnit } from './group-commit.ts';
import type { TaskHandlers } from './queue.ts';

/** An audit entry the service writes for a decision. */
export interface ServiceAuditEntry {
  kind: string;
  subject: string;
  payload: Record<string, unknown>;
}

/** Appends entries to the audit log, in order, in the caller's transaction (a group commit's decisions together). */
export type AuditSink = (db: Kysely<Database>, entries: ServiceAuditEntry[]) => Promise<void>;

const defaultAuditSink: AuditSink = async (db, entries) => {
  await appendAuditBatch(db, entries);
};

/** What the job handlers need: the store, GitHub, the gate and the audit log. */
export interface ServiceDeps {
  db: Kysely<Database>;
  github: GitHubClients;
  decide: Decider;
  audit?: AuditSink | undefined;
  /** Group commit for the decision transactions (one per process; serviceHandlers makes it). */
  transactions?: TransactionBatcher | undefined;
}

/** The task that processes one stored webhook delivery. */
export const deliveryTask = 'github-delivery';

/** The job handlers of the service; `flowgate serve` (SQLite) and `flowgate worker` (PostgreSQL) run the same ones. */
export function serviceHandlers(serviceDeps: ServiceDeps): TaskHandlers {
  const deps: ServiceDeps = { ...serviceDeps, transactions: serviceDeps.transactions ?? transactionBatcher(serviceDeps.db) };
  return {
    [deliveryTask]: async (payload) => {
      const deliveryId = (payload as { deliveryId?: unknown } | null)?.deliveryId;
      if (typeof deliveryId !== 'string') throw new FlowgateError('INTERNAL', `A ${deliveryTask} job without a deliveryId: ${JSON.stringify(payload)}.`);
      await processDelivery(deps, deliveryId);
    },
  };
}

/** Webhook payload fields flowgate reads (lenient: GitHub adds fields freely). */
interface PayloadPullRequest {
  number: number;
  updated_at: string;
  state: string;
  title: string;
  user: { login: string } | null;
  head: { sha: string };
  base: { sha: string; ref: string };
}
interface DeliveryPayload {
  action?: string;
  installation?: { id: number };
  repository?: { name: string; owner: { login: string } };
  pull_request?: PayloadPullRequest;
  check_run?: { name: string; pull_requests?: { number: number }[] };
  check_suite?: { pull_requests?: { number: number }[] };
}

const decidingActions = new Set(['opened', 'synchronize', 'reopened', 'edited', 'ready_for_review']);

/** The pull requests a delivery asks to (re)decide, and whether it is stale. */
async function pullRequestsOf(db: Kysely<Database>, event: string, payload: DeliveryPayload): Promise<{ numbers: number[]; stale: boolean }> {
  const repo = payload.repository;
  if (repo === undefined) return { numbers: [], stale: false };
  const key = `${repo.owner.login}/${repo.name}`;
  if (event === 'pull_request' && payload.pull_request !== undefined) {
    const pr = payload.pull_request;
    const stale = !(await storePullState(db, key, pr, payload.installation?.id ?? null));
    if (stale) return { numbers: [], stale: true };
    return { numbers: decidingActions.has(payload.action ?? '') ? [pr.number] : [], stale: false };
  }
  if (event === 'pull_request_review' && payload.pull_request !== undefined) return { numbers: [payload.pull_request.number], stale: false };
  if (event === 'check_run' && payload.action === 'completed' && payload.check_run !== undefined && payload.check_run.name !== 'flowgate') {
    return { numbers: (payload.check_run.pull_requests ?? []).map((p) => p.number), stale: false };
  }
  if (event === 'check_suite' && payload.action === 'completed') {
    return { numbers: (payload.check_suite?.pull_requests ?? []).map((p) => p.number), stale: false };
  }
  return { numbers: [], stale: false };
}

/**
 * Stores a pull request's state unless a newer one is stored already (GitHub delivers out of
 * order and replays); true when the given state is the newest known. One statement: the row comes
 * back only when it was inserted or updated.
 */
async function storePullState(db: Kysely<Database>, repo: string, pr: PayloadPullRequest, installationId: number | null): Promise<boolean> {
  const updatedAt = Math.floor(Date.parse(pr.updated_at) / 1000);
  const row = {
    repo,
    number: pr.number,
    head_sha: pr.head.sha,
    base_sha: pr.base.sha,
    base_ref: pr.base.ref,
    updated_at: updatedAt,
    state: pr.state,
    title: pr.title,
    author: pr.user?.login ?? '',
    installation_id: installationId,
    decided_sha: null,
    check_run_id: null,
  };
  const stored = await db
    .insertInto('pr_states')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['repo', 'number'])
        .doUpdateSet({
          head_sha: row.head_sha,
          base_sha: row.base_sha,
          base_ref: row.base_ref,
          updated_at: row.updated_at,
          state: row.state,
          title: row.title,
          author: row.author,
          ...(installationId === null ? {} : { installation_id: installationId }),
        })
        .where('pr_states.updated_at', '<=', updatedAt),
    )
    .returning('updated_at')
    .executeTakeFirst();
  return stored !== undefined;
}

/** Processes one stored delivery; a delivery already processed is left alone (replays, duplicate jobs). */
export async function processDelivery(deps: ServiceDeps, deliveryId: string): Promise<void> {
  const { db } = deps;
  // Claims the delivery and counts the run in one statement: a processed one comes back empty.
  const delivery = await db
    .updateTable('webhook_deliveries')
    .set((eb) => ({ runs: eb('runs', '+', 1) }))
    .where('delivery_id', '=', deliveryId)
    .where('status', '=', 'queued')
    .returning(['event', 'payload'])
    .executeTakeFirst();
  if (delivery === undefined) {
    const known = await db.selectFrom('webhook_deliveries').select('status').where('delivery_id', '=', deliveryId).executeTakeFirst();
    if (known === undefined) throw new FlowgateError('NOT_FOUND', `Webhook delivery ${deliveryId} is not stored.`);
    return;
  }
  const payload = JSON.parse(delivery.payload) as DeliveryPayload;
  const { numbers, stale } = await pullRequestsOf(db, delivery.event, payload);
  const repo = payload.repository;
  const finish: DeliveryFinish = { deliveryId, status: stale ? 'stale' : numbers.length > 0 ? 'done' : 'ignored' };
  let finished = false;
  for (const [i, number] of numbers.entries()) {
    if (repo === undefined) break;
    const fromPayload = payload.pull_request?.number === number ? payload.pull_request : null;
    const last = i === numbers.length - 1;
    const outcome = await decidePullRequest(deps, { owner: repo.owner.login, repo: repo.name, number }, deliveryId, payload.installation?.id ?? null, {
      // The payload's base commit lets the facts query read the policy in the same round trip.
      baseSha: fromPayload?.base.sha ?? null,
      storedUpdatedAt: fromPayload === null ? null : Math.floor(Date.parse(fromPayload.updated_at) / 1000),
      // The last pull request's publishing transaction also closes the delivery.
      ...(last ? { finish } : {}),
    });
    finished = last && outcome.skipped === null;
  }
  if (!finished) await finishDelivery(db, finish);
}

/** How a delivery ends: its status, written with the last pull request's published result. */
export interface DeliveryFinish {
  deliveryId: string;
  status: string;
}

async function finishDelivery(db: Kysely<Database>, finish: DeliveryFinish): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: finish.status, processed_at: Math.floor(Date.now() / 1000), error: null })
    .where('delivery_id', '=', finish.deliveryId)
    .execute();
}

/** What the delivery already told about the pull request, and what to commit with its published result. */
export interface DecideContext {
  baseSha: string | null;
  /** updated_at (Unix seconds) of the state just stored from the payload, null when none was. */
  storedUpdatedAt: number | null;
  finish?: DeliveryFinish;
}

/** The outcome of deciding one pull request. */
export interface DecideOutcome {
  verdict: GateVerdict | null;
  published: PublishResult | null;
  skipped: string | null;
}

/** The `repositories` row id of each repository decided (decisions point at it), per store. */
const repositoryIds = new WeakMap<Kysely<Database>, Map<string, number>>();

/**
 * The id of the repository row for `owner/name`, through the store's lookup (its key, or a mined
 * clone whose origin remote names it), created when there is none; remembered per process.
 */
async function repositoryIdOf(db: Kysely<Database>, key: string): Promise<number> {
  const known = repositoryIds.get(db) ?? new Map<string, number>();
  repositoryIds.set(db, known);
  const id = known.get(key);
  if (id !== undefined) return id;
  const repo = await ensureRepository(db, key, null, null);
  known.set(key, repo.id);
  return repo.id;
}

/**
 * Refreshes a pull request from GitHub (one GraphQL query), decides it with the gate, records the
 * decision and publishes it. Store round trips on the common path: one transaction for the
 * decision (its `decisions` row, audit entry and the publishing mark, group-committed with other
 * decisions), one read of what was published before, one transaction for what publishing did.
 */
export async function decidePullRequest(
  deps: ServiceDeps,
  ref: PullRef,
  deliveryId: string,
  installationId: number | null,
  context: DecideContext = { baseSha: null, storedUpdatedAt: null },
): Promise<DecideOutcome> {
  const { db } = deps;
  const key = repoKey(ref);
  const prKey = `${key}#${ref.number}`;
  const { client, installationId: installation } = await deps.github.forRepo(ref.owner, ref.repo, installationId);
  let hint = context.baseSha;
  if (hint === null) {
    const stored = await db.selectFrom('pr_states').select('base_sha').where('repo', '=', key).where('number', '=', ref.number).executeTakeFirst();
    hint = stored?.base_sha ?? null;
  }
  const fetched = await fetchPullRequestFacts(client, ref, { baseSha: hint });
  const { facts, state, merged, updatedAt } = fetched;
  const pullState: PayloadPullRequest = {
    number: ref.number,
    updated_at: updatedAt,
    state,
    title: facts.title,
    user: { login: facts.author.login },
    head: { sha: facts.headSha },
    base: { sha: facts.baseSha, ref: facts.baseRef },
  };
  // GitHub's state is stored unless it is the one the payload just stored.
  const stateChanged = context.storedUpdatedAt !== Math.floor(Date.parse(updatedAt) / 1000);
  if (state !== 'open' || merged) {
    if (stateChanged) await storePullState(db, key, pullState, installation);
    return { verdict: null, published: null, skipped: `the pull request is ${merged ? 'merged' : state}` };
  }
  const repoId = await repositoryIdOf(db, key);
  const verdict = await deps.decide(facts, { db });
  const publishingKey = `publishing:${prKey}`;
  const keys = { merge: `merge:${prKey}`, reviewers: `reviewers:${prKey}@${facts.headSha}` };
  // Whether an earlier decision merged or requested reviewers matters only when this verdict could.
  const wanted = [
    ...(verdict.tier === 'auto' && verdict.autoMergeAllowed && verdict.requiredChecksPassed ? [keys.merge] : []),
    ...(verdict.tier !== 'auto' && verdict.reviewers.some((r) => r !== facts.author.login) ? [keys.reviewers] : []),
  ];
  const recorded = await recordDecision(deps, ref, facts, verdict, {
    deliveryId,
    repoId,
    publishingKey,
    wanted,
    newState: stateChanged ? { pullState, installationId: installation } : null,
  });
  const { recovering, decisionId, previous, done } = recorded;

  const storedCheck = previous?.decidedSha === facts.headSha ? previous.checkRunId : null;
  const storedComment = previous?.commentId ?? null;
  const published = await publishVerdict(client, ref, facts, verdict, {
    recovering,
    checkRunId: fetched.ownCheckRunId ?? storedCheck,
    commentId: storedComment,
    merged: done.includes(keys.merge),
    reviewersRequested: done.includes(keys.reviewers),
  });
  const now = Math.floor(Date.now() / 1000);
  const effects = [
    ...(published.reviewersRequested.length > 0 ? [{ key: keys.reviewers, kind: 'reviewers', result: JSON.stringify(published.reviewersRequested), created_at: now }] : []),
    ...(published.mergeRecord !== null ? [{ key: keys.merge, kind: 'merge', result: JSON.stringify(published.mergeRecord), created_at: now }] : []),
  ];
  const record: PublishedRecord = {
    key,
    number: ref.number,
    headSha: facts.headSha,
    checkRunId: published.checkRunId,
    comment: published.commentId !== storedComment ? published.commentId : null,
    effects,
    mergedDecisionId: published.merged ? decisionId : null,
    publishingKey,
    finish: context.finish ?? null,
    now,
  };
  await recordPublished(db, record);
  log.info({ repo: key, number: ref.number, tier: verdict.tier, conclusion: verdict.conclusion, merged: published.merged }, 'pull request decided');
  return { verdict, published, skipped: null };
}

/** What publishing did, to record in one go: the pull request's state, comment, side effects, the delivery. */
interface PublishedRecord {
  key: string;
  number: number;
  headSha: string;
  checkRunId: number;
  /** The comment id when it is new or changed, else null. */
  comment: number | null;
  effects: { key: string; kind: string; result: string; created_at: number }[];
  /** The decision to mark merged, when this run merged. */
  mergedDecisionId: number | null;
  publishingKey: string;
  finish: DeliveryFinish | null;
  now: number;
}

/**
 * Records what publishing did and clears the publishing mark, all or nothing. On PostgreSQL one
 * statement (data-modifying CTEs, atomic on their own: no BEGIN/COMMIT round trips); on SQLite,
 * in process, a transaction.
 */
async function recordPublished(db: Kysely<Database>, r: PublishedRecord): Promise<void> {
  if (isPostgres(db)) {
    const steps: RawBuilder<unknown>[] = [sql`s as (update pr_states set decided_sha = ${r.headSha}, check_run_id = ${r.checkRunId} where repo = ${r.key} and number = ${r.number})`];
    if (r.comment !== null) {
      steps.push(sql`c as (insert into pr_comments (repo, pr_number, comment_id, updated_at) values (${r.key}, ${r.number}, ${r.comment}, ${r.now})
        on conflict (repo, pr_number) do update set comment_id = excluded.comment_id, updated_at = excluded.updated_at)`);
    }
    if (r.effects.length > 0) {
      const rows = r.effects.map((e) => sql`(${e.key}, ${e.kind}, ${e.result}, ${e.created_at})`);
      steps.push(sql`e as (insert into side_effects (key, kind, result, created_at) values ${sql.join(rows)} on conflict (key) do nothing)`);
    }
    if (r.mergedDecisionId !== null) steps.push(sql`m as (update pr_decisions set merged = 1 where id = ${r.mergedDecisionId})`);
    steps.push(sql`p as (delete from side_effects where key = ${r.publishingKey})`);
    if (r.finish !== null) {
      steps.push(sql`d as (update webhook_deliveries set status = ${r.finish.status}, processed_at = ${r.now}, error = null where delivery_id = ${r.finish.deliveryId})`);
    }
    await sql`with ${sql.join(steps)} select 1`.execute(db);
    return;
  }
  await db.transaction().execute(async (tx) => {
    await tx.updateTable('pr_states').set({ decided_sha: r.headSha, check_run_id: r.checkRunId }).where('repo', '=', r.key).where('number', '=', r.number).execute();
    if (r.comment !== null) {
      await tx
        .insertInto('pr_comments')
        .values({ repo: r.key, pr_number: r.number, comment_id: r.comment, updated_at: r.now })
        .onConflict((oc) => oc.columns(['repo', 'pr_number']).doUpdateSet({ comment_id: r.comment ?? 0, updated_at: r.now }))
        .execute();
    }
    if (r.effects.length > 0) await tx.insertInto('side_effects').values(r.effects).onConflict((oc) => oc.column('key').doNothing()).execute();
    if (r.mergedDecisionId !== null) await tx.updateTable('pr_decisions').set({ merged: 1 }).where('id', '=', r.mergedDecisionId).execute();
    await tx.deleteFrom('side_effects').where('key', '=', r.publishingKey).execute();
    if (r.finish !== null) await finishDelivery(tx, r.finish);
  });
}

/** What an earlier decision published on the pull request (its stored state and comment). */
interface Previous {
  checkRunId: number | null;
  decidedSha: string | null;
  commentId: number | null;
}

/** The decision as recorded, and what earlier decisions published. */
interface RecordedDecision {
  recovering: boolean;
  decisionId: number | null;
  previous: Previous | null;
  /** Which of the wanted side-effect keys (merge, review request) are already recorded. */
  done: string[];
}

interface PreparedDecision extends RecordedDecision {
  audit: ServiceAuditEntry | null;
}

/** The batch finisher of decisions, one per audit sink: the group's audit entries in one append. */
const decisionFinishers = new WeakMap<AuditSink, BatchFinish<PreparedDecision, RecordedDecision>>();

function decisionFinisher(sink: AuditSink): BatchFinish<PreparedDecision, RecordedDecision> {
  let finisher = decisionFinishers.get(sink);
  if (finisher === undefined) {
    finisher = async (tx, prepared) => {
      const entries = prepared.flatMap((p) => (p.audit === null ? [] : [p.audit]));
      if (entries.length > 0) await sink(tx, entries);
      return prepared.map(({ recovering, decisionId, previous, done }) => ({ recovering, decisionId, previous, done }));
    };
    decisionFinishers.set(sink, finisher);
  }
  return finisher;
}

/** Marks the decision (publishing started, this delivery decided) and reads what was published before. */
async function markAndReadPrevious(
  tx: Kysely<Database>,
  key: string,
  number: number,
  marks: { key: string; kind: string; result: string; created_at: number }[],
  wanted: string[],
): Promise<{ inserted: Set<string>; previous: Previous | null; done: string[] }> {
  if (isPostgres(tx)) {
    // One statement: the marks, the pull request's stored state and comment, the effects already recorded.
    const values = sql.join(marks.map((m) => sql`(${m.key}, ${m.kind}, ${m.result}, ${m.created_at})`));
    const { rows } = await sql<{ inserted: string[]; done: string[]; check_run_id: number | null; decided_sha: string | null; comment_id: number | null; found: boolean }>`
      with marks as (insert into side_effects (key, kind, result, created_at) values ${values} on conflict (key) do nothing returning key)
      select array(select key from marks) as inserted,
        array(select key from side_effects where key = any(${wanted}::text[])) as done,
        s.check_run_id, s.decided_sha, c.comment_id, s.repo is not null as found
      from (select 1) as one
      left join pr_states s on s.repo = ${key} and s.number = ${number}
      left join pr_comments c on c.repo = ${key} and c.pr_number = ${number}`.execute(tx);
    const row = rows[0];
    if (row === undefined) throw new FlowgateError('INTERNAL', 'The decision marks statement returned no row.');
    return {
      inserted: new Set(row.inserted),
      previous: row.found ? { checkRunId: row.check_run_id, decidedSha: row.decided_sha, commentId: row.comment_id } : null,
      done: row.done,
    };
  }
  const inserted = await tx.insertInto('side_effects').values(marks).onConflict((oc) => oc.column('key').doNothing()).returning('key').execute();
  const previous = await tx
    .selectFrom('pr_states')
    .leftJoin('pr_comments', (join) => join.onRef('pr_comments.repo', '=', 'pr_states.repo').onRef('pr_comments.pr_number', '=', 'pr_states.number'))
    .select(['pr_states.check_run_id', 'pr_states.decided_sha', 'pr_comments.comment_id'])
    .where('pr_states.repo', '=', key)
    .where('pr_states.number', '=', number)
    .executeTakeFirst();
  const done = wanted.length === 0 ? [] : (await tx.selectFrom('side_effects').select('key').where('key', 'in', wanted).execute()).map((e) => e.key);
  return {
    inserted: new Set(inserted.map((m) => m.key)),
    previous: previous === undefined ? null : { checkRunId: previous.check_run_id, decidedSha: previous.decided_sha, commentId: previous.comment_id ?? null },
    done,
  };
}

/** The gate's `decisions` row and the service's `pr_decisions` row pointing at it: one statement on PostgreSQL. */
async function insertDecisionRows(
  tx: Kysely<Database>,
  gate: { repo_id: number; subject: string; outcome: string; tier: string; decision: string; created_at: number },
  service: { repo: string; pr_number: number; head_sha: string; delivery_id: string; tier: string; conclusion: string; risk: number | null; auto_merge: number; decision: string; created_at: number },
): Promise<{ id: number; gateId: number }> {
  if (isPostgres(tx)) {
    const { rows } = await sql<{ id: number; decision_id: number }>`
      with gate as (insert into decisions (repo_id, subject, outcome, tier, decision, created_at)
        values (${gate.repo_id}, ${gate.subject}, ${gate.outcome}, ${gate.tier}, ${gate.decision}, ${gate.created_at}) returning id)
      insert into pr_decisions (repo, pr_number, head_sha, delivery_id, tier, conclusion, risk, auto_merge, merged, decision, decision_id, created_at)
      values (${service.repo}, ${service.pr_number}, ${service.head_sha}, ${service.delivery_id}, ${service.tier}, ${service.conclusion}, ${service.risk},
        ${service.auto_merge}, 0, ${service.decision}, (select id from gate), ${service.created_at})
      returning id, decision_id`.execute(tx);
    const row = rows[0];
    if (row === undefined) throw new FlowgateError('INTERNAL', 'The decision rows statement returned no row.');
    return { id: row.id, gateId: row.decision_id };
  }
  const inserted = await tx.insertInto('decisions').values(gate).returning('id').executeTakeFirstOrThrow();
  const row = await tx
    .insertInto('pr_decisions')
    .values({ ...service, merged: 0, decision_id: inserted.id })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, gateId: inserted.id };
}

/**
 * Writes the decision once per delivery and pull request, in one transaction: the gate's
 * `decisions` row and its audit entry, the service's `pr_decisions` row pointing at it, the pull
 * request's state when GitHub's is newer, and the mark that publishing started; and reads what
 * earlier decisions published. `recovering` is true when a mark was already there: a run died
 * after writing it, so publishing must look up what GitHub already has. The rows are written in
 * `prepare`, and the audit entries of the whole group-committed batch in one append at the end,
 * so the audit chain's lock is held for three statements and the commit.
 *
 * The `decisions` row and the audit entry are the gate's `recordDecision` split in two (same row,
 * same entry: kind `gate.decision`, payload `{decisionId, ...decision}`): that function appends in
 * the middle of its work, which would hold the lock over every later statement of the batch.
 */
async function recordDecision(
  deps: ServiceDeps,
  ref: PullRef,
  facts: PullRequestFacts,
  verdict: GateVerdict,
  what: {
    deliveryId: string;
    repoId: number;
    publishingKey: string;
    wanted: string[];
    newState: { pullState: PayloadPullRequest; installationId: number | null } | null;
  },
): Promise<RecordedDecision> {
  const { deliveryId, publishingKey, newState } = what;
  const key = repoKey(ref);
  const subject = `${key}#${ref.number}@${facts.headSha}`;
  const decisionKey = `decision:${deliveryId}:${key}#${ref.number}`;
  const unit: TransactionUnit<PreparedDecision, RecordedDecision> = {
    prepare: async (tx) => {
      const now = Math.floor(Date.now() / 1000);
      const marks = [
        { key: publishingKey, kind: 'publishing', result: JSON.stringify({ deliveryId, head: facts.headSha }), created_at: now },
        { key: decisionKey, kind: 'decision', result: JSON.stringify({ head: facts.headSha }), created_at: now },
      ];
      const { inserted, previous, done } = await markAndReadPrevious(tx, key, ref.number, marks, what.wanted);
      const recovering = !inserted.has(publishingKey);
      if (newState !== null) await storePullState(tx, key, newState.pullState, newState.installationId);
      if (!inserted.has(decisionKey)) {
        const existing = await tx.selectFrom('pr_decisions').select('id').where('delivery_id', '=', deliveryId).where('repo', '=', key).where('pr_number', '=', ref.number).executeTakeFirst();
        return { recovering: true, decisionId: existing?.id ?? null, previous, done, audit: null };
      }
      const rows = await insertDecisionRows(
        tx,
        {
          repo_id: what.repoId,
          subject,
          outcome: verdict.decision?.outcome ?? outcomeOf(verdict),
          tier: verdict.decision?.tier ?? verdict.tier,
          decision: JSON.stringify(verdict.decision ?? verdict),
          created_at: now,
        },
        {
          repo: key,
          pr_number: ref.number,
          head_sha: facts.headSha,
          delivery_id: deliveryId,
          tier: verdict.tier,
          conclusion: verdict.conclusion,
          risk: verdict.risk,
          auto_merge: verdict.autoMergeAllowed && verdict.requiredChecksPassed && verdict.tier === 'auto' ? 1 : 0,
          decision: JSON.stringify(verdict),
          created_at: now,
        },
      );
      const payload: Record<string, unknown> =
        verdict.decision === undefined
          ? // A decider without the gate's Decision (the invalid-policy verdict, tests): what it said.
            { decisionId: rows.gateId, deliveryId, tier: verdict.tier, conclusion: verdict.conclusion, reasons: verdict.reasons, autoMergeAllowed: verdict.autoMergeAllowed }
          : { decisionId: rows.gateId, ...verdict.decision };
      return { recovering, decisionId: rows.id, previous, done, audit: { kind: 'gate.decision', subject, payload } };
    },
    finishBatch: decisionFinisher(deps.audit ?? defaultAuditSink),
  };
  return deps.transactions === undefined ? runUnit(deps.db, unit) : deps.transactions.run(unit);
}

/** The gate's outcome for a verdict that carries no gate Decision. */
function outcomeOf(verdict: GateVerdict): string {
  return verdict.conclusion === 'success' ? 'merge-allowed' : verdict.conclusion === 'failure' ? 'blocked' : 'needs-review';
}
