/** Messages of every group, stored sealed, and the chat frames members see when they change. */
import type { MessageDeleted, MessageEdited } from '../domain/messages.js';
import type { Broadcast, GroupFrame } from './broadcasts.js';
import type { ProjectedSend, Projection, ProjectionContext } from './projector.js';
import { openMessageBody, sealMessageBody, type ChatMessage } from './queries/chat-message.js';
import { newChatMessages } from './queries/message-details.js';
import type { ReadTransaction } from './schema.js';

/** Rows per INSERT: a statement stays a few MB even when every message is as long as the guide allows. */
const INSERT_CHUNK = 100;

// The frames of a message's life, the same whether the projector sends them live or a resuming socket gets them
// again (queries/resume.ts).
export const messageFrame = (message: ChatMessage): GroupFrame => ({ type: 'chat:message', payload: { message, groupId: message.groupId } });

export const editedFrame = ({ messageId, groupId, content, editedAt, editedBy }: MessageEdited['data']): GroupFrame => ({
  type: 'chat:message_edited',
  payload: { messageId, groupId, content, editedAt, editedBy },
});

export const deletedFrame = ({ messageId, groupId, deletedBy }: MessageDeleted['data']): GroupFrame => ({
  type: 'chat:message_deleted',
  payload: { messageId, groupId, deletedBy },
});

export const messagesProjection: Projection = {
  name: 'messages',
  tables: { writes: ['mirror_group_messages'], reads: ['mirror_users'] },
  applySends: (trx, sends, ctx) => storeSends(trx, sends, ctx),
  async apply(trx, projected, ctx): Promise<Broadcast[]> {
    const { event } = projected;
    const { crypto } = ctx;
    switch (event.type) {
      case 'MessageSent':
        return storeSends(trx, [projected as ProjectedSend], ctx);
      case 'MessageEdited': {
        const e = event.data;
        const row = await trx
          .selectFrom('mirror_group_messages')
          .select(['body_sealed'])
          .where('group_id', '=', e.groupId)
          .where('id', '=', e.messageId)
          .executeTakeFirst();
        // Deleted messages cannot be edited (the decider says so); their body is gone for good.
        if (!row?.body_sealed) return [];
        const body = await openMessageBody(crypto, e.groupId, e.messageId, row.body_sealed);
        const editedAt = new Date(e.editedAt);
        await trx
          .updateTable('mirror_group_messages')
          .set({
            // The edit's mentions, found in its new text, replace the sent ones (none: the key goes).
            body_sealed: await sealMessageBody(crypto, e.groupId, e.messageId, {
              content: e.content,
              metadata: e.mentions ? { ...body.metadata, mentions: e.mentions.length > 0 ? e.mentions : undefined } : body.metadata,
            }),
            is_edited: true,
            edited_at: editedAt,
            updated_at: editedAt,
          })
          .where('id', '=', e.messageId)
          .execute();
        return [{ kind: 'group', groupId: e.groupId, frame: editedFrame(e) }];
      }
      case 'MessageDeleted': {
        const d = event.data;
        const deletedAt = new Date(d.deletedAt);
        const deleting = await trx
          .selectFrom('mirror_group_messages')
          .select(['thread_root_id', 'is_deleted'])
          .where('group_id', '=', d.groupId)
          .where('id', '=', d.messageId)
          .executeTakeFirst();
        // A deletion applied twice must not count a reply out twice.
        if (!deleting || deleting.is_deleted) return [];
        // The text leaves the read models with the deletion; the event store keeps it for audits.
        await trx
          .updateTable('mirror_group_messages')
          .set({ body_sealed: null, is_deleted: true, deleted_at: deletedAt, updated_at: deletedAt })
          .where('group_id', '=', d.groupId)
          .where('id', '=', d.messageId)
          .execute();
        // The root counts the replies people can still read, as the thread's "N replies" shows them.
        if (deleting.thread_root_id) {
          await trx
            .updateTable('mirror_group_messages')
            .set((s) => ({ thread_reply_count: s('thread_reply_count', '-', 1) }))
            .where('group_id', '=', d.groupId)
            .where('id', '=', deleting.thread_root_id)
            .execute();
        }
        return [{ kind: 'group', groupId: d.groupId, frame: deletedFrame(d) }];
      }
      default:
        return [];
    }
  },
};

/** Stores new messages (those not stored yet), counts replies on their thread roots, and tells each group. */
async function storeSends(trx: ReadTransaction, sends: ProjectedSend[], { crypto, usernames }: ProjectionContext): Promise<Broadcast[]> {
  const known = await trx
    .selectFrom('mirror_group_messages')
    .select('id')
    .where('id', 'in', sends.map((s) => s.event.data.messageId))
    .execute();
  const stored = new Set(known.map((r) => r.id));
  const fresh = sends.filter((s) => !stored.has(s.event.data.messageId)).map((s) => ({ m: s.event.data, revision: s.revision }));
  if (fresh.length === 0) return [];

  const rows = await Promise.all(
    fresh.map(async ({ m, revision }) => ({
      id: m.messageId,
      group_id: m.groupId,
      seq: revision,
      sender_user_id: m.senderUserId,
      body_sealed: await sealMessageBody(crypto, m.groupId, m.messageId, { content: m.content, metadata: m.metadata ?? {} }),
      content_type: m.contentType,
      parent_message_id: m.parentMessageId,
      thread_root_id: m.threadRootId,
      is_edited: false,
      is_deleted: false,
      client_message_id: m.clientMessageId,
      created_at: new Date(m.sentAt),
      updated_at: new Date(m.sentAt),
    })),
  );
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await trx.insertInto('mirror_group_messages').values(rows.slice(i, i + INSERT_CHUNK)).execute();
  }

  const replies = new Map<string, { groupId: string; count: number }>();
  for (const { m } of fresh) {
    if (!m.threadRootId) continue;
    const root = replies.get(m.threadRootId) ?? { groupId: m.groupId, count: 0 };
    replies.set(m.threadRootId, { ...root, count: root.count + 1 });
  }
  for (const [rootId, { groupId, count }] of replies) {
    await trx
      .updateTable('mirror_group_messages')
      .set((s) => ({ thread_reply_count: s('thread_reply_count', '+', count) }))
      .where('group_id', '=', groupId)
      .where('id', '=', rootId)
      .execute();
  }

  const messages = await newChatMessages(trx, crypto, fresh.map(({ m }) => m), usernames);
  return messages.map((message) => ({ kind: 'group', groupId: message.groupId, frame: messageFrame(message) }));
}
