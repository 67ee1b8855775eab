/**
 * Offline delivery's queue (mirror_group_message_delivery_queue): for each new message, a row for every member it
 * should reach who had no live connection when it was projected. Rows are written in the projector's transaction, so
 * each message is queued once, whatever crashes; what becomes of a row (webhook attempts, delivery when the member
 * connects) is api/delivery.ts's, and the state changes it makes are below, beside the rows' writer.
 *
 * Who is told: not the sender; not a member who muted the group or chose to hear of nothing; one who chose mentions
 * only, when the message mentions them (by name or through @everyone). The message text stays in the messages table,
 * sealed: a row names the message, never quotes it.
 */
import { createHash } from 'node:crypto';
import { sql, type Insertable } from 'kysely';
import { mentionedUserIds } from '../domain/mentions.js';
import type { MessageSent } from '../domain/messages.js';
import { sqlFlavor } from '../infra/sql/dialect.js';
import type { ProjectedSend, Projection, ProjectionContext } from './projector.js';
import { readDb, type ReadContext } from './queries/context.js';
import type { DeliveryQueueTable, DeliveryStatus, ReadTransaction } from './schema.js';
import { firstApplications } from './stream-revisions.js';

/**
 * A message older than this when it is projected is not queued: a notification that late is noise, and a database
 * with a history (this projection added to it, or its checkpoint rewound) must not tell everyone everything again.
 */
const HORIZON_MS = 24 * 3600 * 1000;
/** Rows per statement: far below every driver's limit on bound parameters. */
const CHUNK = 500;

export const deliveryProjection: Projection = {
  name: 'delivery',
  // Rows record what became of each delivery, which no event says: never rebuilt.
  tables: null,
  applySends: (trx, sends, ctx) => queue(trx, sends, ctx),
  async apply(trx, projected, ctx) {
    return projected.event.type === 'MessageSent' ? queue(trx, [projected as ProjectedSend], ctx) : [];
  },
};

async function queue(trx: ReadTransaction, sends: ProjectedSend[], { connected }: ProjectionContext) {
  if (!connected) return [];
  // A replay would meet today's members and preferences, not those the message met: it must queue nothing.
  const fresh = await firstApplications(trx, deliveryProjection.name, sends);
  const horizon = Date.now() - HORIZON_MS;
  const messages = fresh.map((s) => s.event.data).filter((m) => Date.parse(m.sentAt) >= horizon);
  if (messages.length === 0) return [];

  const listeners = await listenersOf(trx, [...new Set(messages.map((m) => m.groupId))]);
  const told = messages.map((m) => ({ m, userIds: toTell(m, listeners.get(m.groupId) ?? []) }));
  const candidates = [...new Set(told.flatMap((t) => t.userIds))];
  if (candidates.length === 0) return [];
  const online = await connected(candidates);

  const now = new Date();
  const rows: Array<Insertable<DeliveryQueueTable>> = told.flatMap(({ m, userIds }) =>
    userIds
      .filter((userId) => !online.has(userId))
      .map((userId) => ({
        id: deliveryId(m.messageId, userId),
        group_id: m.groupId,
        message_id: m.messageId,
        user_id: userId,
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: null,
        last_error: null,
        created_at: new Date(m.sentAt),
        updated_at: now,
      })),
  );
  for (let i = 0; i < rows.length; i += CHUNK) {
    const insert = trx.insertInto('mirror_group_message_delivery_queue').values(rows.slice(i, i + CHUNK));
    // A replay from a rewound checkpoint meets the rows it wrote before: their ids are the same, so they stay as they are.
    await (sqlFlavor(trx) === 'mysql' ? insert.onDuplicateKeyUpdate({ id: sql`id` }) : insert.onConflict((oc) => oc.column('id').doNothing())).execute();
  }
  return [];
}

interface Listener {
  userId: number;
  mentionsOnly: boolean;
}

/** Each group's members who want to hear of new messages at all, by their preferences (defaults: every message). */
async function listenersOf(trx: ReadTransaction, groupIds: string[]): Promise<Map<string, Listener[]>> {
  const members = await trx
    .selectFrom('mirror_group_members as gm')
    .leftJoin('mirror_group_chat_preferences as p', (join) => join.onRef('p.group_id', '=', 'gm.group_id').onRef('p.user_id', '=', 'gm.user_id'))
    .select(['gm.group_id', 'gm.user_id', 'p.muted', 'p.notify_level'])
    .where('gm.group_id', 'in', groupIds)
    .execute();
  const byGroup = new Map<string, Listener[]>();
  for (const r of members) {
    if (r.muted || r.notify_level === 'none') continue;
    const listener = { userId: r.user_id, mentionsOnly: r.notify_level === 'mentions' };
    byGroup.set(r.group_id, [...(byGroup.get(r.group_id) ?? []), listener]);
  }
  return byGroup;
}

function toTell(m: MessageSent['data'], listeners: Listener[]): number[] {
  const mentioned = mentionedUserIds(m.metadata?.mentions ?? [], listeners.map((l) => l.userId), m.senderUserId);
  return listeners.filter((l) => l.userId !== m.senderUserId && (!l.mentionsOnly || mentioned.has(l.userId))).map((l) => l.userId);
}

/**
 * A row's id, the same however often its message is projected: the message id's first 48 bits (its time, for the
 * time-ordered ids the server makes) and a hash of message and member, so rows are written in time order as messages
 * are (see time-ordered-id.ts). It is a UUID, as the row's job id must be.
 */
export function deliveryId(messageId: string, userId: number): string {
  const bytes = createHash('sha256').update(`${messageId}|${userId}`).digest().subarray(0, 16);
  Buffer.from(messageId.replace(/-/g, '').slice(0, 12), 'hex').copy(bytes, 0);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// The state changes below run outside the projector; each names the states it starts from, so two processes (or a
// webhook attempt and a member's connection) racing over one row leave it in one of the outcomes, never a mix.

type Db = Pick<ReadContext, 'db'>;

const moveRows = (ctx: Db, ids: string[], from: DeliveryStatus[]) =>
  readDb(ctx).updateTable('mirror_group_message_delivery_queue').where('id', 'in', ids).where('status', 'in', from);

/**
 * Forgets the rows of messages sent before `cutoff`, whatever became of them: a member away that long reads the group's
 * history instead. Answers how many went. A batch at a time, chosen then deleted by id (MySQL takes no LIMIT in a
 * subquery), so that no statement holds the table long.
 */
export async function dropDeliveriesBefore(ctx: Db, cutoff: Date): Promise<number> {
  let dropped = 0;
  for (;;) {
    const rows = await readDb(ctx).selectFrom('mirror_group_message_delivery_queue').select('id').where('created_at', '<', cutoff).limit(CHUNK).execute();
    if (rows.length === 0) return dropped;
    const result = await readDb(ctx).deleteFrom('mirror_group_message_delivery_queue').where('id', 'in', rows.map((r) => r.id)).executeTakeFirst();
    dropped += Number(result.numDeletedRows);
    if (rows.length < CHUNK) return dropped;
  }
}

/** Their jobs are queued: the rows wait for their first attempt, due now. */
export async function markQueued(ctx: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const now = new Date();
  await moveRows(ctx, ids, ['pending']).set({ next_attempt_at: now, updated_at: now }).where('next_attempt_at', 'is', null).execute();
}

/** A webhook attempt starts; false when the row no longer waits for one (delivered, dead, skipped or gone). */
export async function startAttempt(ctx: Db, id: string): Promise<boolean> {
  // 'delivering' too: an attempt cut short by a crash is retried by the queue and starts again from there.
  const result = await moveRows(ctx, [id], ['pending', 'failed', 'delivering'])
    .set((eb) => ({ status: 'delivering', attempts: eb('attempts', '+', 1), updated_at: new Date() }))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The attempt's outcome: delivered (`error` null), failed with a retry due at `retryAt`, or dead (`retryAt` null). */
export async function endAttempt(ctx: Db, id: string, error: string | null, retryAt: Date | null): Promise<void> {
  const status: DeliveryStatus = error === null ? 'delivered' : retryAt ? 'failed' : 'dead';
  await moveRows(ctx, [id], ['delivering'])
    .set({ status, next_attempt_at: error === null ? null : retryAt, last_error: error?.slice(0, 1024) ?? null, updated_at: new Date() })
    .execute();
}

/**
 * The member's socket got them: done, whatever the webhook was doing. An attempt under way then ends without
 * changing the row, and its retries find nothing to do.
 */
export async function markDeliveredOnConnect(ctx: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await moveRows(ctx, ids, ['pending', 'delivering', 'failed', 'dead']).set({ status: 'delivered', next_attempt_at: null, updated_at: new Date() }).execute();
}

/** Nothing left to deliver: the message was deleted, or the member left, first. */
export async function markSkipped(ctx: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await moveRows(ctx, ids, ['pending', 'failed', 'delivering', 'dead'])
    .set({ status: 'skipped', next_attempt_at: null, updated_at: new Date() })
    .execute();
}
