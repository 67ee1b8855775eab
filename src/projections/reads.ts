/**
 * Read receipts, and unread counts kept as counters. A member's unread count is the group's messages not sent by
 * them, not deleted and not read by them (issue 3). Each event moves the counters by what it changes, touching only
 * rows an index bounds, so neither reading a count nor keeping it ever scans a group's history.
 * The mentions projection keeps `unread_mention_count` the same way; a read lowers it here.
 */
import { sql } from 'kysely';
import type { MessageDeleted } from '../domain/messages.js';
import type { MessagesRead } from '../domain/reads.js';
import type { Broadcast } from './broadcasts.js';
import type { ProjectedSend, Projection } from './projector.js';
import type { ReadTransaction } from './schema.js';
import { firstApplication, firstApplications } from './stream-revisions.js';

const NAME = 'reads';
const counted = new Set(['MessageSent', 'MessagesRead', 'MessageDeleted', 'MemberAdded']);

export const readsProjection: Projection = {
  name: NAME,
  tables: {
    writes: ['mirror_group_message_reads', 'mirror_groups', 'mirror_group_members'],
    reads: ['mirror_group_messages', 'mirror_group_message_mentions'],
  },
  async applySends(trx, sends) {
    await countSends(trx, await firstApplications(trx, NAME, sends));
    return [];
  },
  async apply(trx, projected) {
    const { event } = projected;
    if (!counted.has(event.type) || !(await firstApplication(trx, NAME, projected))) return [];
    switch (event.type) {
      case 'MessageSent':
        await countSends(trx, [projected as ProjectedSend]);
        return [];
      case 'MessagesRead':
        return messagesRead(trx, event.data);
      case 'MessageDeleted':
        return messageDeleted(trx, event.data);
      case 'MemberAdded':
        // Also a role change of a member: counting afresh gives the same number then.
        await trx
          .updateTable('mirror_group_members')
          .set({ unread_count: await unreadCountFromRows(trx, event.data.groupId, event.data.userId) })
          .where('group_id', '=', event.data.groupId)
          .where('user_id', '=', event.data.userId)
          .execute();
        return [];
      default:
        return [];
    }
  },
};

/**
 * A new message counts for its group, and as unread for each member but its sender. For a whole run of sends, one
 * statement per table: each group's rows move by that group's share, less each sender's own.
 */
async function countSends(trx: ReadTransaction, sends: ProjectedSend[]): Promise<void> {
  if (sends.length === 0) return;
  const perGroup = new Map<string, number>();
  const perSender = new Map<string, { groupId: string; userId: number; count: number }>();
  for (const { event } of sends) {
    const { groupId, senderUserId: userId } = event.data;
    perGroup.set(groupId, (perGroup.get(groupId) ?? 0) + 1);
    const key = `${groupId}|${userId}`;
    perSender.set(key, { groupId, userId, count: (perSender.get(key)?.count ?? 0) + 1 });
  }
  const groupIds = [...perGroup.keys()];
  const sent = (column: string) => sql<number>`case ${sql.ref(column)} ${sql.join([...perGroup].map(([id, n]) => sql`when ${id} then ${sql.lit(n)}`), sql` `)} end`;
  const own = sql<number>`case ${sql.join(
    [...perSender.values()].map(({ groupId, userId, count }) => sql`when group_id = ${groupId} and user_id = ${userId} then ${sql.lit(count)}`),
    sql` `,
  )} else 0 end`;
  await trx
    .updateTable('mirror_groups')
    .set({ live_message_count: sql`live_message_count + ${sent('id')}` })
    .where('id', 'in', groupIds)
    .execute();
  await trx
    .updateTable('mirror_group_members')
    .set({ unread_count: sql`unread_count + ${sent('group_id')} - ${own}` })
    .where('group_id', 'in', groupIds)
    .execute();
}

/** Records only what is newly read, and tells the group about exactly that; reading again changes nothing. */
async function messagesRead(trx: ReadTransaction, r: MessagesRead['data']): Promise<Broadcast[]> {
  // The decider dropped own and deleted messages already; checking again keeps the counters true to their definition.
  const unread = await trx
    .selectFrom('mirror_group_messages as m')
    .select('m.id')
    .where('m.group_id', '=', r.groupId)
    .where('m.id', 'in', r.messageIds)
    .where('m.is_deleted', '=', false)
    .where('m.sender_user_id', '<>', r.userId)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('mirror_group_message_reads as r').select('r.message_id').whereRef('r.message_id', '=', 'm.id').where('r.user_id', '=', r.userId))),
    )
    .execute();
  const fresh = new Set(unread.map((row) => row.id));
  const messageIds = r.messageIds.filter((id) => fresh.has(id));
  if (messageIds.length === 0) return [];

  const readAt = new Date(r.readAt);
  await trx
    .insertInto('mirror_group_message_reads')
    .values(messageIds.map((messageId) => ({ message_id: messageId, user_id: r.userId, group_id: r.groupId, read_at: readAt })))
    .execute();
  const mentions = await trx
    .selectFrom('mirror_group_message_mentions')
    .select((s) => s.fn.countAll<number | string | bigint>().as('n'))
    .where('mentioned_user_id', '=', r.userId)
    .where('message_id', 'in', messageIds)
    .executeTakeFirstOrThrow();
  await trx
    .updateTable('mirror_group_members')
    .set((s) => ({
      unread_count: s('unread_count', '-', messageIds.length),
      unread_mention_count: s('unread_mention_count', '-', Number(mentions.n)),
    }))
    .where('group_id', '=', r.groupId)
    .where('user_id', '=', r.userId)
    .execute();
  const payload = { messageIds, groupId: r.groupId, userId: r.userId, readAt: r.readAt };
  return [{ kind: 'group', groupId: r.groupId, frame: { type: 'chat:message_read', payload } }];
}

/** A deleted message leaves the count of every member but its sender who had not read it. */
async function messageDeleted(trx: ReadTransaction, d: MessageDeleted['data']): Promise<Broadcast[]> {
  const message = await trx
    .selectFrom('mirror_group_messages')
    .select('sender_user_id')
    .where('group_id', '=', d.groupId)
    .where('id', '=', d.messageId)
    .executeTakeFirst();
  if (!message) return [];
  await trx
    .updateTable('mirror_groups')
    .set((s) => ({ live_message_count: s('live_message_count', '-', 1) }))
    .where('id', '=', d.groupId)
    .execute();
  await trx
    .updateTable('mirror_group_members')
    .set((s) => ({ unread_count: s('unread_count', '-', 1) }))
    .where('group_id', '=', d.groupId)
    .where('user_id', '<>', message.sender_user_id)
    .where('user_id', 'not in', (eb) => eb.selectFrom('mirror_group_message_reads').select('user_id').where('message_id', '=', d.messageId))
    .execute();
  return [];
}

/**
 * A member's unread count from the rows about them alone — live messages, less their own, less those they have read —
 * each bounded by an index on (group, user): for a new member it is just the group's live count.
 */
async function unreadCountFromRows(trx: ReadTransaction, groupId: string, userId: number): Promise<number> {
  const group = await trx.selectFrom('mirror_groups').select('live_message_count').where('id', '=', groupId).executeTakeFirst();
  const own = await trx
    .selectFrom('mirror_group_messages')
    .select((s) => s.fn.countAll<number | string | bigint>().as('n'))
    .where('group_id', '=', groupId)
    .where('sender_user_id', '=', userId)
    .where('is_deleted', '=', false)
    .executeTakeFirstOrThrow();
  const read = await trx
    .selectFrom('mirror_group_message_reads as r')
    .innerJoin('mirror_group_messages as m', 'm.id', 'r.message_id')
    .select((s) => s.fn.countAll<number | string | bigint>().as('n'))
    .where('r.group_id', '=', groupId)
    .where('r.user_id', '=', userId)
    .where('m.is_deleted', '=', false)
    .where('m.sender_user_id', '<>', userId)
    .executeTakeFirstOrThrow();
  return (group?.live_message_count ?? 0) - Number(own.n) - Number(read.n);
}
