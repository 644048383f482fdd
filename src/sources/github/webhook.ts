import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { FlowgateError } from '../../core/errors.ts';
import { deliveryTask } from '../../service/tasks.ts';
import type { JobQueue } from '../../service/queue.ts';
import type { Database } from '../../store/schema.ts';

/** Checks `X-Hub-Signature-256` against the shared secret; throws UNAUTHORIZED when it does not match. */
export function signatureVerifier(secret: string): (body: string, signature: string | undefined) => void {
  // A plain HMAC in this thread: the ack path's CPU is the server's throughput (the Web Crypto path costs more per call).
  return (body, signature) => {
    if (signature === undefined || !signature.startsWith('sha256=')) {
      throw new FlowgateError('UNAUTHORIZED', 'The webhook has no X-Hub-Signature-256 header. Set the secret in the GitHub App settings.');
    }
    const expected = createHmac('sha256', secret).update(body, 'utf8').digest();
    const given = Buffer.from(signature.slice('sha256='.length), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new FlowgateError('UNAUTHORIZED', 'The webhook signature does not match. Check that FLOWGATE_WEBHOOK_SECRET is the App\'s webhook secret.');
    }
  };
}

/** One delivery as received: headers and raw body. */
export interface IncomingDelivery {
  id: string;
  event: string;
  body: string;
}

/**
 * How many named queues pull requests are spread over (FLOWGATE_QUEUE_SHARDS, default 64). Every
 * server replica must use the same number. Bounded on purpose: graphile-worker keeps a row per
 * queue name forever and locks every free one each time it looks for a job, so a queue per pull
 * request makes fetching a job slower with every pull request ever seen.
 */
export function queueShards(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env['FLOWGATE_QUEUE_SHARDS']);
  return Number.isInteger(n) && n > 0 ? n : 64;
}

/**
 * The queue a delivery's job goes to: a pull request always maps to the same one, so its
 * deliveries run one at a time, in order (pull requests sharing a queue wait for each other).
 */
export function queueNameOf(payload: Record<string, unknown>, shards = queueShards()): string | undefined {
  const repo = (payload['repository'] as { full_name?: string } | undefined)?.full_name;
  const number =
    (payload['pull_request'] as { number?: number } | undefined)?.number ??
    (payload['check_run'] as { pull_requests?: { number: number }[] } | undefined)?.pull_requests?.[0]?.number ??
    (payload['check_suite'] as { pull_requests?: { number: number }[] } | undefined)?.pull_requests?.[0]?.number;
  if (repo === undefined || number === undefined) return undefined;
  const hash = createHash('sha1').update(`${repo}#${number}`).digest().readUInt32BE(0);
  return `pr:${hash % shards}`;
}

/**
 * Stores a verified delivery and queues its job in one transaction, so that an acknowledged
 * delivery is never lost; a delivery id already stored is not queued again. True when new.
 */
export async function acceptDelivery(db: Kysely<Database>, queue: JobQueue, delivery: IncomingDelivery): Promise<boolean> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(delivery.body);
  } catch (error) {
    throw new FlowgateError('EVENT_INVALID', `Webhook delivery ${delivery.id} is not JSON. Send the payload as application/json.`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FlowgateError('EVENT_INVALID', `Webhook delivery ${delivery.id} is not a JSON object.`);
  }
  const payload = parsed as Record<string, unknown>;
  const repo = (payload['repository'] as { full_name?: string } | undefined)?.full_name ?? null;
  const action = typeof payload['action'] === 'string' ? payload['action'] : null;
  const queueName = queueNameOf(payload);
  const insert = (executor: Kysely<Database>) =>
    executor
      .insertInto('webhook_deliveries')
      .values({
        delivery_id: delivery.id,
        event: delivery.event,
        action,
        repo,
        payload: delivery.body,
        received_at: Math.floor(Date.now() / 1000),
        status: 'queued',
        runs: 0,
        processed_at: null,
        error: null,
      })
      .onConflict((oc) => oc.column('delivery_id').doNothing());
  const job = { deliveryId: delivery.id };
  const options = { jobKey: `delivery:${delivery.id}`, ...(queueName === undefined ? {} : { queueName }) };
  if (queue.addExpression !== undefined) {
    // One statement (atomic on its own): the job is added only for a delivery this insert stored.
    const added = await db
      .with('inserted', () => insert(db).returning('delivery_id'))
      .selectFrom('inserted')
      .select(queue.addExpression(deliveryTask, job, options).as('job'))
      .execute();
    return added.length > 0;
  }
  return db.transaction().execute(async (tx) => {
    const inserted = await insert(tx).executeTakeFirst();
    if ((inserted.numInsertedOrUpdatedRows ?? 0n) === 0n) return false;
    await queue.add(deliveryTask, job, options, tx);
    return true;
  });
}
