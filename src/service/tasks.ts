import type { Kysely } from 'kysely';
import { FlowgateError } from '../core/errors.ts';
import { log } from '../core/log.ts';
import type { GitHubClients } from '../sources/github/client.ts';
import { appendAudit } from '../decisions/audit/log.ts';
import { fetchPullRequestFacts, publishVerdict, repoKey, type PublishResult, type PullRef } from '../sources/github/pull-request.ts';
import { ensureRepository } from '../store/repositories.ts';
import type { Database } from '../store/schema.ts';
import type { Decider, GateVerdict, PullRequestFacts } from './decider.ts';
import { runUnit, transactionBatcher, type TransactionBatcher, type TransactionUnit } from './group-commit.ts';
import type { TaskHandlers } from './queue.ts';

/** Appends one entry to the audit log, in the caller's transaction. */
export type AuditSink = (db: Kysely<Database>, entry: { kind: string; subject: string; payload: Record<string, unknown> }) => Promise<void>;

const defaultAuditSink: AuditSink = async (db, entry) => {
  await appendAudit(db, entry);
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
  const status = stale ? 'stale' : numbers.length > 0 ? 'done' : 'ignored';
  const finish = async (tx: Kysely<Database>): Promise<void> => {
    await tx
      .updateTable('webhook_deliveries')
      .set({ status, processed_at: Math.floor(Date.now() / 1000), error: null })
      .where('delivery_id', '=', deliveryId)
      .execute();
  };
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
  if (!finished) await finish(db);
}

/** What the delivery already told about the pull request, and what to commit with its published result. */
export interface DecideContext {
  baseSha: string | null;
  /** updated_at (Unix seconds) of the state just stored from the payload, null when none was. */
  storedUpdatedAt: number | null;
  finish?: (tx: Kysely<Database>) => Promise<void>;
}

/** The outcome of deciding one pull request. */
export interface DecideOutcome {
  verdict: GateVerdict | null;
  published: PublishResult | null;
  skipped: string | null;
}

/** Repositories known to have a `repositories` row (decisions point at it), per store. */
const ensuredRepositories = new WeakMap<Kysely<Database>, Set<string>>();

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
  const ensured = ensuredRepositories.get(db) ?? new Set<string>();
  ensuredRepositories.set(db, ensured);
  if (!ensured.has(key)) {
    await ensureRepository(db, key, null, null);
    ensured.add(key);
  }
  const verdict = await deps.decide(facts, { db });
  const publishingKey = `publishing:${prKey}`;
  const { recovering, decisionId } = await recordDecision(deps, ref, facts, verdict, deliveryId, publishingKey, stateChanged ? { pullState, installationId: installation } : null);

  // What earlier decisions published: the check run on this head, the comment, and (only when this
  // verdict could merge or request reviewers) the recorded merge and review requests.
  const previous = await db
    .selectFrom('pr_states')
    .leftJoin('pr_comments', (join) => join.onRef('pr_comments.repo', '=', 'pr_states.repo').onRef('pr_comments.pr_number', '=', 'pr_states.number'))
    .select(['pr_states.check_run_id', 'pr_states.decided_sha', 'pr_comments.comment_id'])
    .where('pr_states.repo', '=', key)
    .where('pr_states.number', '=', ref.number)
    .executeTakeFirst();
  const keys = { merge: `merge:${prKey}`, reviewers: `reviewers:${prKey}@${facts.headSha}` };
  const wanted = [
    ...(verdict.tier === 'auto' && verdict.autoMergeAllowed && verdict.requiredChecksPassed ? [keys.merge] : []),
    ...(verdict.tier !== 'auto' && verdict.reviewers.some((r) => r !== facts.author.login) ? [keys.reviewers] : []),
  ];
  const done = new Set(wanted.length === 0 ? [] : (await db.selectFrom('side_effects').select('key').where('key', 'in', wanted).execute()).map((e) => e.key));
  const storedCheck = previous?.decided_sha === facts.headSha ? (previous.check_run_id ?? null) : null;
  const storedComment = previous?.comment_id ?? null;
  const published = await publishVerdict(client, ref, facts, verdict, {
    recovering,
    checkRunId: fetched.ownCheckRunId ?? storedCheck,
    commentId: storedComment,
    merged: done.has(keys.merge),
    reviewersRequested: done.has(keys.reviewers),
  });
  const now = Math.floor(Date.now() / 1000);
  await db.transaction().execute(async (tx) => {
    await tx.updateTable('pr_states').set({ decided_sha: facts.headSha, check_run_id: published.checkRunId }).where('repo', '=', key).where('number', '=', ref.number).execute();
    if (published.commentId !== storedComment) {
      await tx
        .insertInto('pr_comments')
        .values({ repo: key, pr_number: ref.number, comment_id: published.commentId, updated_at: now })
        .onConflict((oc) => oc.columns(['repo', 'pr_number']).doUpdateSet({ comment_id: published.commentId, updated_at: now }))
        .execute();
    }
    const effects = [
      ...(published.reviewersRequested.length > 0 ? [{ key: keys.reviewers, kind: 'reviewers', result: JSON.stringify(published.reviewersRequested), created_at: now }] : []),
      ...(published.mergeRecord !== null ? [{ key: keys.merge, kind: 'merge', result: JSON.stringify(published.mergeRecord), created_at: now }] : []),
    ];
    if (effects.length > 0) await tx.insertInto('side_effects').values(effects).onConflict((oc) => oc.column('key').doNothing()).execute();
    if (published.merged && decisionId !== null) await tx.updateTable('pr_decisions').set({ merged: 1 }).where('id', '=', decisionId).execute();
    await tx.deleteFrom('side_effects').where('key', '=', publishingKey).execute();
    if (context.finish !== undefined) await context.finish(tx);
  });
  log.info({ repo: key, number: ref.number, tier: verdict.tier, conclusion: verdict.conclusion, merged: published.merged }, 'pull request decided');
  return { verdict, published, skipped: null };
}

/**
 * Writes the decision once per delivery and pull request, in one transaction: the gate's
 * `decisions` row and its audit entry, the service's `pr_decisions` row pointing at it, the pull
 * request's state when GitHub's is newer, and the mark that publishing started. `recovering` is
 * true when a mark was already there: a run died after writing it, so publishing must look up what
 * GitHub already has. The rows are written in `prepare` and the audit entry in `finish`, so that
 * group-committed decisions hold the audit chain's lock only for their appends.
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
  deliveryId: string,
  publishingKey: string,
  newState: { pullState: PayloadPullRequest; installationId: number | null } | null,
): Promise<{ recovering: boolean; decisionId: number | null }> {
  const key = repoKey(ref);
  const subject = `${key}#${ref.number}@${facts.headSha}`;
  const decisionKey = `decision:${deliveryId}:${key}#${ref.number}`;
  interface Prepared {
    recovering: boolean;
    decisionId: number | null;
    audit: { kind: string; subject: string; payload: Record<string, unknown> } | null;
  }
  const unit: TransactionUnit<Prepared, { recovering: boolean; decisionId: number | null }> = {
    prepare: async (tx) => {
      const now = Math.floor(Date.now() / 1000);
      const marks = await tx
        .insertInto('side_effects')
        .values([
          { key: publishingKey, kind: 'publishing', result: JSON.stringify({ deliveryId, head: facts.headSha }), created_at: now },
          { key: decisionKey, kind: 'decision', result: JSON.stringify({ head: facts.headSha }), created_at: now },
        ])
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key')
        .execute();
      const inserted = new Set(marks.map((m) => m.key));
      const recovering = !inserted.has(publishingKey);
      if (newState !== null) await storePullState(tx, key, newState.pullState, newState.installationId);
      if (!inserted.has(decisionKey)) {
        const existing = await tx.selectFrom('pr_decisions').select('id').where('delivery_id', '=', deliveryId).where('repo', '=', key).where('pr_number', '=', ref.number).executeTakeFirst();
        return { recovering: true, decisionId: existing?.id ?? null, audit: null };
      }
      const repo = await tx.selectFrom('repositories').select('id').where('key', '=', key).executeTakeFirst();
      const gate = await tx
        .insertInto('decisions')
        .values({
          repo_id: repo?.id ?? null,
          subject,
          outcome: verdict.decision?.outcome ?? outcomeOf(verdict),
          tier: verdict.decision?.tier ?? verdict.tier,
          decision: JSON.stringify(verdict.decision ?? verdict),
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const row = await tx
        .insertInto('pr_decisions')
        .values({
          repo: key,
          pr_number: ref.number,
          head_sha: facts.headSha,
          delivery_id: deliveryId,
          tier: verdict.tier,
          conclusion: verdict.conclusion,
          risk: verdict.risk,
          auto_merge: verdict.autoMergeAllowed && verdict.requiredChecksPassed && verdict.tier === 'auto' ? 1 : 0,
          merged: 0,
          decision: JSON.stringify(verdict),
          decision_id: gate.id,
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const payload: Record<string, unknown> =
        verdict.decision === undefined
          ? // A decider without the gate's Decision (the invalid-policy verdict, tests): what it said.
            { decisionId: gate.id, deliveryId, tier: verdict.tier, conclusion: verdict.conclusion, reasons: verdict.reasons, autoMergeAllowed: verdict.autoMergeAllowed }
          : { decisionId: gate.id, ...verdict.decision };
      return { recovering, decisionId: row.id, audit: { kind: 'gate.decision', subject, payload } };
    },
    finish: async (tx, prepared) => {
      if (prepared.audit !== null) await (deps.audit ?? defaultAuditSink)(tx, prepared.audit);
      return { recovering: prepared.recovering, decisionId: prepared.decisionId };
    },
  };
  return deps.transactions === undefined ? runUnit(deps.db, unit) : deps.transactions.run(unit);
}

/** The gate's outcome for a verdict that carries no gate Decision. */
function outcomeOf(verdict: GateVerdict): string {
  return verdict.conclusion === 'success' ? 'merge-allowed' : verdict.conclusion === 'failure' ? 'blocked' : 'needs-review';
}
