/** Messages of every group, stored sealed, and the chat frames members see when they change. */
import type { Broadcast } from './broadcasts.js';
import type { Projection } from './projector.js';
import { openMessageBody, sealMessageBody, selectChatMessages } from './queries/chat-message.js';
import { toNewChatMessage } from './queries/message-details.js';

export const messagesProjection: Projection = {
  name: 'messages',
  async apply(trx, { event, revision }, { crypto }): Promise<Broadcast[]> {
    switch (event.type) {
      case 'MessageSent': {
        const m = event.data;
        const known = await trx.selectFrom('mirror_group_messages').select('id').where('id', '=', m.messageId).executeTakeFirst();
        if (known) return [];
        const sentAt = new Date(m.sentAt);
        await trx
          .insertInto('mirror_group_messages')
          .values({
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
            created_at: sentAt,
            updated_at: sentAt,
          })
          .execute();
        if (m.threadRootId) {
          await trx
            .updateTable('mirror_group_messages')
            .set((s) => ({ thread_reply_count: s('thread_reply_count', '+', 1) }))
            .where('group_id', '=', m.groupId)
            .where('id', '=', m.threadRootId)
            .execute();
        }
        const row = await selectChatMessages(trx).where('m.id', '=', m.messageId).executeTakeFirstOrThrow();
        const message = await toNewChatMessage(trx, crypto, row);
        return [{ kind: 'group', groupId: m.groupId, frame: { type: 'chat:message', payload: { message, groupId: m.groupId } } }];
      }
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
        const payload = { messageId: e.messageId, groupId: e.groupId, content: e.content, editedAt: e.editedAt, editedBy: e.editedBy };
        return [{ kind: 'group', groupId: e.groupId, frame: { type: 'chat:message_edited', payload } }];
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
        const payload = { messageId: d.messageId, groupId: d.groupId, deletedBy: d.deletedBy };
        return [{ kind: 'group', groupId: d.groupId, frame: { type: 'chat:message_deleted', payload } }];
      }
      default:
        return [];
    }
  },
};
