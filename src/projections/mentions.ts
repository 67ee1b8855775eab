/**
 * Who each message mentions (one row per member reached; @everyone reaches the members of the moment, sender aside),
 * each member's count of unread mentions, and the `chat:mention` frame to every member a message newly mentions.
 * A mention counts while its message is neither deleted nor read by the one mentioned; editing it out (or deleting
 * the message) takes it off the count, editing it in puts it on. Reading lowers the count in reads.ts.
 */
import { mentionedUserIds } from '../domain/mentions.js';
import type { MentionInfo, MessageEdited, MessageSent } from '../domain/messages.js';
import type { Broadcast } from './broadcasts.js';
import type { ProjectedSend, Projection, ProjectionContext } from './projector.js';
import { selectChatMessages, type ChatMessage } from './queries/chat-message.js';
import { newChatMessages, toChatMessages } from './queries/message-details.js';
import type { ReadTransaction } from './schema.js';
import { firstApplication, firstApplications } from './stream-revisions.js';

type MentionType = 'user' | 'everyone';

/** Members per statement: an @everyone in a large group stays far below every driver's limit on bound parameters. */
const CHUNK = 1000;

const NAME = 'mentions';
const counted = new Set(['MessageSent', 'MessageEdited', 'MessageDeleted', 'MemberAdded']);

export const mentionsProjection: Projection = {
  name: NAME,
  tables: {
    writes: ['mirror_group_message_mentions', 'mirror_group_members'],
    reads: ['mirror_group_messages', 'mirror_group_message_reads', 'mirror_users', 'mirror_group_message_reactions', 'mirror_group_pinned_messages'],
  },
  async applySends(trx, sends, ctx) {
    // Sends that mention nobody change nothing here, so they need no guard either.
    const mentioning = sends.filter((s) => (s.event.data.metadata?.mentions ?? []).length > 0);
    return mentionInSends(trx, ctx, await firstApplications(trx, NAME, mentioning));
  },
  async apply(trx, projected, ctx) {
    const { event } = projected;
    if (!counted.has(event.type) || !(await firstApplication(trx, NAME, projected))) return [];
    switch (event.type) {
      case 'MessageSent':
        return mentionInSends(trx, ctx, [projected as ProjectedSend]);
      case 'MessageEdited':
        return messageEdited(trx, ctx, event.data);
      case 'MessageDeleted': {
        const d = event.data;
        await changeUnreadMentions(trx, d.groupId, d.messageId, mentionedIn(trx, d.messageId), -1);
        await trx.deleteFrom('mirror_group_message_mentions').where('message_id', '=', d.messageId).execute();
        return [];
      }
      case 'MemberAdded': {
        const { groupId, userId } = event.data;
        // A member who comes back finds the mentions of live messages they have still not read.
        const unread = await trx
          .selectFrom('mirror_group_message_mentions as mm')
          .select((s) => s.fn.countAll<number | string | bigint>().as('n'))
          .where('mm.group_id', '=', groupId)
          .where('mm.mentioned_user_id', '=', userId)
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('mirror_group_message_reads as r').select('r.message_id').whereRef('r.message_id', '=', 'mm.message_id').where('r.user_id', '=', userId))),
          )
          .executeTakeFirstOrThrow();
        await trx
          .updateTable('mirror_group_members')
          .set({ unread_mention_count: Number(unread.n) })
          .where('group_id', '=', groupId)
          .where('user_id', '=', userId)
          .execute();
        return [];
      }
      default:
        return [];
    }
  },
};

/** Whom `mentions` reach among the group's members now; the member list is read only for an @everyone. */
async function reachedBy(trx: ReadTransaction, groupId: string, mentions: readonly MentionInfo[], senderUserId: number) {
  if (mentions.length === 0) return new Map<number, MentionType>();
  const members = mentions.some((m) => m.type === 'everyone')
    ? (await trx.selectFrom('mirror_group_members').select('user_id').where('group_id', '=', groupId).execute()).map((r) => r.user_id)
    : [];
  return mentionedUserIds(mentions, members, senderUserId);
}

/** The edit's mentions replace the message's: those edited out leave the counts, those edited in join them. */
async function messageEdited(trx: ReadTransaction, ctx: ProjectionContext, e: MessageEdited['data']): Promise<Broadcast[]> {
  if (!e.mentions) return [];
  const message = await trx
    .selectFrom('mirror_group_messages')
    .select(['sender_user_id', 'is_deleted'])
    .where('group_id', '=', e.groupId)
    .where('id', '=', e.messageId)
    .executeTakeFirst();
  if (!message || message.is_deleted) return [];
  const reached = await reachedBy(trx, e.groupId, e.mentions, message.sender_user_id);
  const before = new Map(
    (await mentionedIn(trx, e.messageId).select('mention_type').execute()).map((r) => [r.mentioned_user_id, r.mention_type]),
  );

  const gone = [...before.keys()].filter((userId) => !reached.has(userId));
  if (gone.length > 0) {
    await changeUnreadMentions(trx, e.groupId, e.messageId, gone, -1);
    await trx.deleteFrom('mirror_group_message_mentions').where('message_id', '=', e.messageId).where('mentioned_user_id', 'in', gone).execute();
  }
  // Still mentioned, now by name rather than through @everyone or the other way round: rare, so one row at a time.
  for (const [userId, type] of reached) {
    if (!before.has(userId) || before.get(userId) === type) continue;
    await trx
      .updateTable('mirror_group_message_mentions')
      .set({ mention_type: type })
      .where('message_id', '=', e.messageId)
      .where('mentioned_user_id', '=', userId)
      .execute();
  }
  const added = new Map([...reached].filter(([userId]) => !before.has(userId)));
  if (added.size === 0) return [];
  await mention(trx, e.groupId, e.messageId, added, new Date(e.editedAt));
  const row = await selectChatMessages(trx).where('m.id', '=', e.messageId).executeTakeFirstOrThrow();
  const [edited] = await toChatMessages(trx, ctx.crypto, [row], null);
  return tell(edited!, added);
}

/** The mentions of new messages; the messages as they were sent go to those they reach. */
async function mentionInSends(trx: ReadTransaction, { crypto }: ProjectionContext, sends: ProjectedSend[]): Promise<Broadcast[]> {
  const mentioning: Array<{ m: MessageSent['data']; reached: Map<number, MentionType> }> = [];
  for (const { event } of sends) {
    const m = event.data;
    const reached = await reachedBy(trx, m.groupId, m.metadata?.mentions ?? [], m.senderUserId);
    if (reached.size === 0) continue;
    await mention(trx, m.groupId, m.messageId, reached, new Date(m.sentAt));
    mentioning.push({ m, reached });
  }
  const messages = await newChatMessages(trx, crypto, mentioning.map(({ m }) => m));
  return mentioning.flatMap(({ reached }, i) => tell(messages[i]!, reached));
}

/** Records new mentions of a message and counts them as unread where the message is. */
async function mention(trx: ReadTransaction, groupId: string, messageId: string, reached: Map<number, MentionType>, at: Date): Promise<void> {
  const rows = [...reached].map(([userId, type]) => ({
    message_id: messageId,
    mentioned_user_id: userId,
    group_id: groupId,
    mention_type: type,
    created_at: at,
  }));
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    await trx.insertInto('mirror_group_message_mentions').values(chunk).execute();
    await changeUnreadMentions(trx, groupId, messageId, chunk.map((r) => r.mentioned_user_id), +1);
  }
}

/** `chat:mention` to each member reached, each seeing whether they reacted, as in every other ChatMessage they get. */
function tell(message: ChatMessage, reached: Map<number, MentionType>): Broadcast[] {
  const { groupId } = message;
  return [...reached].map(([userId, mentionType]) => {
    const reactions = message.reactions.map((r) => ({ ...r, hasReacted: r.users.some((u) => u.userId === userId) }));
    return { kind: 'user', groupId, userId, frame: { type: 'chat:mention', payload: { message: { ...message, reactions }, groupId, mentionType } } };
  });
}

/** The mention rows of one message (narrow further, or select more, at the call). */
const mentionedIn = (trx: ReadTransaction, messageId: string) =>
  trx.selectFrom('mirror_group_message_mentions').select('mentioned_user_id').where('message_id', '=', messageId);

/** Moves the unread-mention count of `users` who have not read the message (a read one no longer counts). */
async function changeUnreadMentions(
  trx: ReadTransaction,
  groupId: string,
  messageId: string,
  users: number[] | ReturnType<typeof mentionedIn>,
  by: 1 | -1,
): Promise<void> {
  if (Array.isArray(users) && users.length === 0) return;
  await trx
    .updateTable('mirror_group_members')
    .set((s) => ({ unread_mention_count: s('unread_mention_count', by > 0 ? '+' : '-', 1) }))
    .where('group_id', '=', groupId)
    .where('user_id', 'in', users)
    .where('user_id', 'not in', (eb) => eb.selectFrom('mirror_group_message_reads').select('user_id').where('message_id', '=', messageId))
    .execute();
}
