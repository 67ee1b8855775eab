/** Offline delivery's reads of its queue (see projections/delivery.ts). */
import type { MessageContentType } from '../../domain/messages.js';
import { readDb, type ReadContext } from './context.js';

type Db = Pick<ReadContext, 'db'>;

/** Rows no job has been queued for yet, oldest first. */
export async function unqueuedDeliveries(ctx: Db, limit: number): Promise<string[]> {
  const rows = await readDb(ctx)
    .selectFrom('mirror_group_message_delivery_queue')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', 'is', null)
    .orderBy('created_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export interface UndeliveredRow {
  id: string;
  groupId: string;
  messageId: string;
}

/** A member's rows not yet delivered — waiting, under way, failed or dead — oldest first. */
export async function undeliveredTo(ctx: Db, userId: number, limit: number): Promise<UndeliveredRow[]> {
  const rows = await readDb(ctx)
    .selectFrom('mirror_group_message_delivery_queue')
    .select(['id', 'group_id', 'message_id'])
    .where('user_id', '=', userId)
    .where('status', 'in', ['pending', 'delivering', 'failed', 'dead'])
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, groupId: r.group_id, messageId: r.message_id }));
}

/**
 * What the webhook is told of one row: who is to be told, of which message, from whom, where. Names and ids only;
 * the text stays sealed in the read models.
 */
export interface DeliveryNotice {
  deliveryId: string;
  recipientUserId: number;
  groupId: string;
  groupName: string;
  messageId: string;
  senderUserId: number;
  senderUsername: string | null;
  contentType: MessageContentType;
  threadRootId: string | null;
  /** The message mentions the recipient, by name or through @everyone. */
  mentioned: boolean;
  sentAt: string;
}

/** The row's notice; null when there is nothing left to tell (the row is gone, the message deleted, the member left). */
export async function deliveryNotice(ctx: Db, deliveryId: string): Promise<DeliveryNotice | null> {
  const row = await readDb(ctx)
    .selectFrom('mirror_group_message_delivery_queue as q')
    .innerJoin('mirror_group_messages as m', 'm.id', 'q.message_id')
    .innerJoin('mirror_groups as g', 'g.id', 'q.group_id')
    .innerJoin('mirror_group_members as gm', (join) => join.onRef('gm.group_id', '=', 'q.group_id').onRef('gm.user_id', '=', 'q.user_id'))
    .leftJoin('mirror_users as u', 'u.id', 'm.sender_user_id')
    .leftJoin('mirror_group_message_mentions as mm', (join) =>
      join.onRef('mm.message_id', '=', 'q.message_id').onRef('mm.mentioned_user_id', '=', 'q.user_id'),
    )
    .select([
      'q.user_id',
      'q.group_id',
      'g.name',
      'q.message_id',
      'm.sender_user_id',
      'u.username',
      'm.content_type',
      'm.thread_root_id',
      'm.is_deleted',
      'm.created_at',
      'mm.mentioned_user_id',
    ])
    .where('q.id', '=', deliveryId)
    .executeTakeFirst();
  if (!row || row.is_deleted) return null;
  return {
    deliveryId,
    recipientUserId: row.user_id,
    groupId: row.group_id,
    groupName: row.name,
    messageId: row.message_id,
    senderUserId: row.sender_user_id,
    senderUsername: row.username,
    contentType: row.content_type,
    threadRootId: row.thread_root_id,
    mentioned: row.mentioned_user_id !== null,
    sentAt: row.created_at.toISOString(),
  };
}
