/**
 * Offline delivery (README, "Offline delivery"). The projector queues a row for each member a new message should reach
 * who had no live connection (projections/delivery.ts). Here each row becomes a job, and the job a POST to the
 * configured webhook, retried with exponential backoff and dead-lettered when every attempt has failed; and a member
 * who connects is sent, over that socket, every message the webhook has not delivered to them.
 *
 * Rows and jobs live in different databases (the read models; pg-boss's), so no transaction spans both: rows are
 * written first, and a relay queues a job for each row that has none — after every projector commit, at start, and
 * every half minute. A job's id is its row's, so relaying a row twice queues one job.
 *
 * Rows of messages older than the retention are forgotten, whatever became of them, at start and every hour.
 */
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { EphemeralStore } from '../infra/ephemeral/port.js';
import type { Job, JobQueue } from '../infra/jobs/port.js';
import type { PubSub } from '../infra/pubsub/port.js';
import { dropDeliveriesBefore, endAttempt, markDeliveredOnConnect, markQueued, markSkipped, startAttempt } from '../projections/delivery.js';
import { CHECKPOINT_CHANNEL } from '../projections/projector.js';
import { selectChatMessages } from '../projections/queries/chat-message.js';
import { readDb, type ReadContext } from '../projections/queries/context.js';
import { deliveryNotice, undeliveredTo, unqueuedDeliveries, type DeliveryNotice } from '../projections/queries/delivery.js';
import { listGroupsOf } from '../projections/queries/groups.js';
import { toChatMessages } from '../projections/queries/message-details.js';

export const DELIVERY_QUEUE = 'offline-delivery';
export const DEAD_LETTER_QUEUE = 'offline-delivery-dead';
const RELAY_BATCH = 500;
/** A relay that failed (the queue's database away) tries again by then even if no message arrives meanwhile. */
const RELAY_SWEEP_MS = 30_000;
/** Messages sent to a connecting member per read of their rows. */
const CONNECT_BATCH = 100;
/** How often rows past the retention are looked for: an hour's worth at most is kept too long. */
const RETENTION_SWEEP_MS = 3_600_000;

export interface WebhookConfig {
  url: string;
  secret?: string | undefined;
  timeoutMs: number;
  retryLimit: number;
  retryDelaySeconds: number;
}

/** The JSON body of each webhook call: the row's notice (no message text) and which attempt this is. */
export type WebhookPayload = { type: 'chat:offline_message'; attempt: number } & DeliveryNotice;

export interface DeliveryDeps {
  read: ReadContext;
  bus: PubSub;
  /** Null without a webhook: rows then wait for their members to connect. */
  webhook: { config: WebhookConfig; jobs: JobQueue } | null;
  /** Rows of messages sent longer ago than this are forgotten, delivered or not. */
  retentionMs: number;
  clock: () => Date;
  logger: Logger;
}

export interface Delivery {
  /**
   * Sends a member who just connected every message queued for them and not delivered, as the guide's `chat:message`
   * frames, oldest first; `send` answers false once the socket is gone, and what it did not take stays queued.
   */
  deliverPending(userId: number, send: (frame: string) => boolean): Promise<void>;
  close(): Promise<void>;
}

/**
 * Who of these users has a live connection, for the projector: anyone presence does not count offline. Presence
 * unreachable, everyone counts as away and is queued: the broadcasts travel the same way, so they likely missed them.
 */
export function connectedAmong(ephemeral: EphemeralStore, logger: Logger): (userIds: number[]) => Promise<Set<number>> {
  return async (userIds) => {
    try {
      const known = await ephemeral.presenceOf(userIds);
      return new Set([...known.values()].filter((p) => p.status !== 'offline').map((p) => p.userId));
    } catch (err) {
      logger.warn({ err }, 'offline delivery: presence unreachable; queueing for every member');
      return new Set();
    }
  };
}

export async function startDelivery(deps: DeliveryDeps): Promise<Delivery> {
  const { read, logger } = deps;
  const stopRelay = deps.webhook ? await startWebhook(deps, deps.webhook) : async () => {};
  const stopForgetting = startForgetting(deps);

  return {
    async deliverPending(userId, send) {
      for (;;) {
        const rows = await undeliveredTo(read, userId, CONNECT_BATCH);
        if (rows.length === 0) return;
        const memberOf = new Set((await listGroupsOf(read, userId)).map((g) => g.id));
        const ids = rows.filter((r) => memberOf.has(r.groupId)).map((r) => r.messageId);
        const stored = ids.length === 0 ? [] : await selectChatMessages(readDb(read)).where('m.id', 'in', ids).where('m.is_deleted', '=', false).execute();
        const messages = new Map((await toChatMessages(readDb(read), read.crypto, stored, userId)).map((m) => [m.id, m]));
        const delivered: string[] = [];
        const skipped: string[] = [];
        let open = true;
        for (const row of rows) {
          const message = messages.get(row.messageId);
          if (!message) {
            skipped.push(row.id);
            continue;
          }
          open = send(JSON.stringify({ type: 'chat:message', payload: { message, groupId: row.groupId } }));
          if (!open) break;
          delivered.push(row.id);
        }
        await markDeliveredOnConnect(read, delivered);
        await markSkipped(read, skipped);
        logger.debug({ userId, delivered: delivered.length, skipped: skipped.length }, 'offline delivery: sent what was pending');
        if (!open || rows.length < CONNECT_BATCH) return;
      }
    },
    async close() {
      await stopForgetting();
      await stopRelay();
    },
  };
}

/** Forgets rows past the retention now and every hour; answers how to stop. Every process does: a row goes once. */
function startForgetting({ read, retentionMs, clock, logger }: DeliveryDeps): () => Promise<void> {
  let sweeping: Promise<void> | null = null;
  const sweep = () => {
    sweeping ??= dropDeliveriesBefore(read, new Date(clock().getTime() - retentionMs))
      .then((dropped) => {
        if (dropped > 0) logger.info({ dropped }, 'offline delivery: forgot the rows of messages past DELIVERY_RETENTION_DAYS');
      })
      .catch((err: unknown) => logger.warn({ err }, 'offline delivery: forgetting old rows failed; trying again later'))
      .finally(() => (sweeping = null));
  };
  const timer = setInterval(sweep, RETENTION_SWEEP_MS);
  timer.unref();
  sweep();
  return async () => {
    clearInterval(timer);
    await sweeping;
  };
}

/** Declares the queue, works it, and relays rows to it; answers how to stop relaying (the queue closes with the backends). */
async function startWebhook(deps: DeliveryDeps, { config, jobs }: NonNullable<DeliveryDeps['webhook']>): Promise<() => Promise<void>> {
  const { read, bus, logger } = deps;
  await jobs.declareQueue(DELIVERY_QUEUE, { retryLimit: config.retryLimit, retryDelaySeconds: config.retryDelaySeconds, deadLetter: DEAD_LETTER_QUEUE });

  const attempt = async (job: Job<{ deliveryId: string }>) => {
    const { deliveryId } = job.data;
    if (!(await startAttempt(read, deliveryId))) return;
    const notice = await deliveryNotice(read, deliveryId);
    if (!notice) return markSkipped(read, [deliveryId]);
    try {
      await post(config, { type: 'chat:offline_message', attempt: job.attempt, ...notice });
    } catch (error) {
      const reason = describe(error);
      // pg-boss waits retryDelay · 2^(attempt−1) seconds and up to as much again: the row records the earliest.
      const retryAt = job.lastAttempt ? null : new Date(Date.now() + config.retryDelaySeconds * 1000 * 2 ** (job.attempt - 1));
      await endAttempt(read, deliveryId, reason, retryAt);
      logger.warn({ deliveryId, attempt: job.attempt, reason, dead: retryAt === null }, 'offline delivery: webhook attempt failed');
      throw error;
    }
    await endAttempt(read, deliveryId, null, null);
  };
  await jobs.work(DELIVERY_QUEUE, attempt);

  let relaying: Promise<void> | null = null;
  let again = false;
  const relayOnce = async () => {
    for (;;) {
      const ids = await unqueuedDeliveries(read, RELAY_BATCH);
      if (ids.length === 0) return;
      await jobs.send(DELIVERY_QUEUE, ids.map((id) => ({ id, data: { deliveryId: id } })));
      await markQueued(read, ids);
      if (ids.length < RELAY_BATCH) return;
    }
  };
  /** One relay at a time; a call meanwhile makes it go round once more, since its commit may have come after the read. */
  const relay = () => {
    if (relaying) {
      again = true;
      return;
    }
    relaying = (async () => {
      do {
        again = false;
        await relayOnce();
      } while (again);
    })()
      .catch((err: unknown) => logger.warn({ err }, 'offline delivery: queueing jobs failed; trying again later'))
      .finally(() => (relaying = null));
  };
  const unsubscribe = await bus.subscribe(CHECKPOINT_CHANNEL, relay);
  const sweep = setInterval(relay, RELAY_SWEEP_MS);
  sweep.unref();
  relay();
  return async () => {
    clearInterval(sweep);
    await unsubscribe();
    await relaying;
  };
}

async function post(config: WebhookConfig, payload: WebhookPayload): Promise<void> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-mirror-delivery': payload.deliveryId };
  if (config.secret) headers['x-mirror-signature'] = `sha256=${createHmac('sha256', config.secret).update(body).digest('hex')}`;
  // A redirect is an answer like any other than 2xx: the payload goes only where it was configured to.
  const response = await fetch(config.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(config.timeoutMs) });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`);
}

/** An error as the row records it: fetch puts what went wrong on the network in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
