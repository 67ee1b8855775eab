/**
 * Projection-level helpers for unread counts and mentions: the real command layer on a read side, what the bus
 * carries, and the counters next to a brute-force count over the tables (an oracle only a test may afford).
 */
import { randomUUID } from 'node:crypto';
import { createCommands, type Commands } from '../../src/commands/index.js';
import type { MessageMetadata } from '../../src/domain/messages.js';
import type { ReadDb } from '../../src/projections/schema.js';
import { untilProjected, type ReadSide, type seedUser } from './read-side.js';

export const commandsOn = (side: ReadSide): Commands =>
  createCommands({ eventStore: side.eventStore, crypto: side.crypto, clock: () => new Date(), newId: randomUUID });

export type User = Awaited<ReturnType<typeof seedUser>>;

/** A group driven through the real command layer, remembering how far the store has got. */
export async function groupChat(side: ReadSide, commands: Commands, owner: User, members: User[]) {
  let last = '';
  const track = async <T extends { position: string | null }>(result: Promise<T>) => {
    const done = await result;
    if (done.position) last = done.position;
    return done;
  };
  const { groupId, position } = await commands.createGroup({ ownerUserId: owner.userId, ownerUsername: owner.username, name: 'Chat' });
  last = position!;
  const chat = {
    groupId,
    add: (u: User) => track(commands.addMember({ groupId, actorUserId: owner.userId, userId: u.userId, username: u.username, role: 'member' })),
    remove: (u: User) => track(commands.removeMember({ groupId, actorUserId: owner.userId, userId: u.userId })),
    send: async (from: User, content: string, metadata: MessageMetadata | null = null) =>
      (
        await track(
          commands.sendMessage({ groupId, senderUserId: from.userId, content, contentType: 'text', parentMessageId: null, clientMessageId: null, metadata }),
        )
      ).messageId,
    edit: (by: User, messageId: string, content: string) => track(commands.editMessage({ groupId, messageId, editorUserId: by.userId, content })),
    delete: (by: User, messageId: string) => track(commands.deleteMessage({ groupId, messageId, actorUserId: by.userId })),
    read: (by: User, messageIds: string[]) => track(commands.markRead({ groupId, userId: by.userId, messageIds })),
    settled: () => untilProjected(side, last),
    counters: async () => {
      await chat.settled();
      return storedCounters(side, groupId);
    },
  };
  for (const m of members) await chat.add(m);
  return chat;
}

export interface Counters {
  live: number;
  /** userId → [unread, unread mentions] */
  members: Record<number, [number, number]>;
}

/** The group's counters as the projections keep them. */
export async function storedCounters(side: ReadSide, groupId: string): Promise<Counters> {
  const db = side.db as ReadDb;
  const group = await db.selectFrom('mirror_groups').select('live_message_count').where('id', '=', groupId).executeTakeFirstOrThrow();
  const rows = await db
    .selectFrom('mirror_group_members')
    .select(['user_id', 'unread_count', 'unread_mention_count'])
    .where('group_id', '=', groupId)
    .execute();
  return {
    live: group.live_message_count,
    members: Object.fromEntries(rows.map((r) => [r.user_id, [r.unread_count, r.unread_mention_count]])),
  };
}

/** The same counters by their definitions, counting every row of the group's history. */
export async function bruteForceCounters(side: ReadSide, groupId: string): Promise<Counters> {
  const db = side.db as ReadDb;
  const n = (row: { n: number | string | bigint }) => Number(row.n);
  const live = await db
    .selectFrom('mirror_group_messages')
    .select((s) => s.fn.countAll<number>().as('n'))
    .where('group_id', '=', groupId)
    .where('is_deleted', '=', false)
    .executeTakeFirstOrThrow();
  const members = await db.selectFrom('mirror_group_members').select('user_id').where('group_id', '=', groupId).execute();
  const counts: Counters['members'] = {};
  for (const { user_id: userId } of members) {
    const unread = await db
      .selectFrom('mirror_group_messages as m')
      .select((s) => s.fn.countAll<number>().as('n'))
      .where('m.group_id', '=', groupId)
      .where('m.is_deleted', '=', false)
      .where('m.sender_user_id', '<>', userId)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('mirror_group_message_reads as r').select('r.user_id').whereRef('r.message_id', '=', 'm.id').where('r.user_id', '=', userId))),
      )
      .executeTakeFirstOrThrow();
    const mentions = await db
      .selectFrom('mirror_group_message_mentions as mm')
      .innerJoin('mirror_group_messages as m', 'm.id', 'mm.message_id')
      .select((s) => s.fn.countAll<number>().as('n'))
      .where('mm.group_id', '=', groupId)
      .where('mm.mentioned_user_id', '=', userId)
      .where('m.is_deleted', '=', false)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('mirror_group_message_reads as r').select('r.user_id').whereRef('r.message_id', '=', 'm.id').where('r.user_id', '=', userId))),
      )
      .executeTakeFirstOrThrow();
    counts[userId] = [n(unread), n(mentions)];
  }
  return { live: n(live), members: counts };
}

/** messageId → mentioned userId → mention type, as the mentions table holds them. */
export async function mentionRows(side: ReadSide, groupId: string): Promise<Record<string, Record<number, string>>> {
  const rows = await (side.db as ReadDb)
    .selectFrom('mirror_group_message_mentions')
    .select(['message_id', 'mentioned_user_id', 'mention_type'])
    .where('group_id', '=', groupId)
    .execute();
  const byMessage: Record<string, Record<number, string>> = {};
  for (const r of rows) (byMessage[r.message_id] ??= {})[r.mentioned_user_id] = r.mention_type;
  return byMessage;
}
