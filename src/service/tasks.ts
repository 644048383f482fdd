import type { Kysely } from 'kysely';
import { FlowgateError } from '../core/errors.ts';
import { log } from '../core/log.ts';
import type { GitHubClients } from '../sources/github/client.ts';
import { fetchPullRequestFacts, publishVerdict, repoKey, type PublishResult, type PullRef } from '../sources/github/pull-request.ts';
import type { Database } from '../store/schema.ts';
import type { Decider, GateVerdict, PullRequestFacts } from './decider.ts';
import { recordEffect } from './effects.ts';
import type { TaskHandlers } from './queue.ts';

/** Appends one entry to the audit log (the audit module's `appendAudit`, once wired in). */
export type AuditSink = (db: Kysely<Database>, entry: { kind: string; subject: string; payload: Record<string, unknown> }) => Promise<void>;

/** What the job handlers need: the store, GitHub, the gate and the audit log. */
export interface ServiceDeps {
  db: Kysely<Database>;
  github: GitHubClients;
  decide: Decider;
  audit?: AuditSink | undefined;
}

/** The task that processes one stored webhook delivery. */
export const deliveryTask = 'github-delivery';

/** The job handlers of the service; `flowgate serve` (SQLite) and `flowgate worker` (PostgreSQL) run the same ones. */
export function serviceHandlers(deps: ServiceDeps): TaskHandlers {
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
 * order and replays); true when the given state is the newest known.
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
  await db
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
    .execute();
  const stored = await db.selectFrom('pr_states').select('updated_at').where('repo', '=', repo).where('number', '=', pr.number).executeTakeFirst();
  return stored === undefined || stored.updated_at <= updatedAt;
}

/** Processes one stored delivery; a delivery already processed is left alone (replays, duplicate jobs). */
export async function processDelivery(deps: ServiceDeps, deliveryId: string): Promise<void> {
  const { db } = deps;
  const delivery = await db.selectFrom('webhook_deliveries').selectAll().where('delivery_id', '=', deliveryId).executeTakeFirst();
  if (delivery === undefined) throw new FlowgateError('NOT_FOUND', `Webhook delivery ${deliveryId} is not stored.`);
  if (delivery.status !== 'queued') return;
  await db.updateTable('webhook_deliveries').set((eb) => ({ runs: eb('runs', '+', 1) })).where('delivery_id', '=', deliveryId).execute();
  const payload = JSON.parse(delivery.payload) as DeliveryPayload;
  const { numbers, stale } = await pullRequestsOf(db, delivery.event, payload);
  const repo = payload.repository;
  for (const number of numbers) {
    if (repo === undefined) break;
    await decidePullRequest(deps, { owner: repo.owner.login, repo: repo.name, number }, deliveryId, payload.installation?.id ?? null);
  }
  const status = stale ? 'stale' : numbers.length > 0 ? 'done' : 'ignored';
  await db
    .updateTable('webhook_deliveries')
    .set({ status, processed_at: Math.floor(Date.now() / 1000), error: null })
    .where('delivery_id', '=', deliveryId)
    .execute();
}

/** The outcome of deciding one pull request. */
export interface DecideOutcome {
  verdict: GateVerdict | null;
  published: PublishResult | null;
  skipped: string | null;
}

/** Refreshes a pull request from GitHub, decides it with the gate, records the decision and publishes it. */
export async function decidePullRequest(deps: ServiceDeps, ref: PullRef, deliveryId: string, installationId: number | null): Promise<DecideOutcome> {
  const { db } = deps;
  const { client, installationId: installation } = await deps.github.forRepo(ref.owner, ref.repo, installationId);
  const { facts, state, merged, updatedAt } = await fetchPullRequestFacts(client, ref);
  await storePullState(
    db,
    repoKey(ref),
    {
      number: ref.number,
      updated_at: updatedAt,
      state,
      title: facts.title,
      user: { login: facts.author.login },
      head: { sha: facts.headSha },
      base: { sha: facts.baseSha, ref: facts.baseRef },
    },
    installation,
  );
  if (state !== 'open' || merged) return { verdict: null, published: null, skipped: `the pull request is ${merged ? 'merged' : state}` };
  const verdict = await deps.decide(facts);
  await recordDecision(deps, ref, facts, verdict, deliveryId);
  const published = await publishVerdict(db, client, ref, facts, verdict);
  await db.transaction().execute(async (tx) => {
    await tx.updateTable('pr_states').set({ decided_sha: facts.headSha }).where('repo', '=', repoKey(ref)).where('number', '=', ref.number).execute();
    if (published.merged) {
      await tx
        .updateTable('pr_decisions')
        .set({ merged: 1 })
        .where('repo', '=', repoKey(ref))
        .where('pr_number', '=', ref.number)
        .where('head_sha', '=', facts.headSha)
        .execute();
    }
  });
  log.info({ repo: repoKey(ref), number: ref.number, tier: verdict.tier, conclusion: verdict.conclusion, merged: published.merged }, 'pull request decided');
  return { verdict, published, skipped: null };
}

/** Writes the decision and its audit entry once per delivery and pull request, in one transaction. */
async function recordDecision(deps: ServiceDeps, ref: PullRef, facts: PullRequestFacts, verdict: GateVerdict, deliveryId: string): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    if (!(await recordEffect(tx, `decision:${deliveryId}:${repoKey(ref)}#${ref.number}`, 'decision', { head: facts.headSha }))) return;
    await tx
      .insertInto('pr_decisions')
      .values({
        repo: repoKey(ref),
        pr_number: ref.number,
        head_sha: facts.headSha,
        delivery_id: deliveryId,
        tier: verdict.tier,
        conclusion: verdict.conclusion,
        risk: verdict.risk,
        auto_merge: verdict.autoMergeAllowed && verdict.requiredChecksPassed && verdict.tier === 'auto' ? 1 : 0,
        merged: 0,
        decision: JSON.stringify(verdict),
        created_at: Math.floor(Date.now() / 1000),
      })
      .execute();
    if (deps.audit !== undefined) {
      await deps.audit(tx, {
        kind: 'gate.decision',
        subject: `${repoKey(ref)}#${ref.number}@${facts.headSha}`,
        payload: { deliveryId, tier: verdict.tier, conclusion: verdict.conclusion, reasons: verdict.reasons, autoMergeAllowed: verdict.autoMergeAllowed },
      });
    }
  });
}
