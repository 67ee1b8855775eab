/** Pinned messages of each group, newest pin first; a pin's note is sealed like message text. */
import type { Broadcast } from './broadcasts.js';
import type { Projection } from './projector.js';
import { selectChatMessages } from './queries/chat-message.js';
import { sealPinNote, toChatMessages } from './queries/message-details.js';
import type { ReadTransaction } from './schema.js';

export const pinsProjection: Projection = {
  name: 'pins',
  tables: {
    writes: ['mirror_group_pinned_messages'],
    reads: ['mirror_group_messages', 'mirror_users', 'mirror_group_message_reactions', 'mirror_group_message_reads'],
  },
  async apply(trx, { event, revision }, { crypto }): Promise<Broadcast[]> {
    switch (event.type) {
      case 'MessagePinned': {
        const p = event.data;
        const current = await trx
          .selectFrom('mirror_group_pinned_messages')
          .select('pin_seq')
          .where('group_id', '=', p.groupId)
          .where('message_id', '=', p.messageId)
          .executeTakeFirst();
        if (current && Number(current.pin_seq) >= revision) return [];
        // Pinning again replaces the note and takes the new revision: the pin moves to the top.
        const values = {
          pinned_by: p.pinnedBy,
          pin_note_sealed: p.note === null ? null : await sealPinNote(crypto, p.groupId, p.messageId, p.note),
          pinned_at: new Date(p.pinnedAt),
          pin_seq: revision,
        };
        if (current) {
          await trx
            .updateTable('mirror_group_pinned_messages')
            .set(values)
            .where('group_id', '=', p.groupId)
            .where('message_id', '=', p.messageId)
            .execute();
        } else {
          await trx.insertInto('mirror_group_pinned_messages').values({ group_id: p.groupId, message_id: p.messageId, ...values }).execute();
        }
        const row = await selectChatMessages(trx).where('m.id', '=', p.messageId).executeTakeFirstOrThrow();
        const [message] = await toChatMessages(trx, crypto, [row], null);
        const payload = { messageId: p.messageId, groupId: p.groupId, pinnedBy: p.pinnedBy, pinnedAt: p.pinnedAt, pinNote: p.note, message: message! };
        return [{ kind: 'group', groupId: p.groupId, frame: { type: 'chat:message_pinned', payload } }];
      }
      case 'MessageUnpinned':
        return unpin(trx, event.data.groupId, event.data.messageId, event.data.unpinnedBy);
      case 'MessageDeleted':
        // Deleting a message unpins it (the decider counts it out of the group's pins on the same event).
        return unpin(trx, event.data.groupId, event.data.messageId, event.data.deletedBy);
      default:
        return [];
    }
  },
};

async function unpin(trx: ReadTransaction, groupId: string, messageId: string, unpinnedBy: number): Promise<Broadcast[]> {
  const { numDeletedRows } = await trx
    .deleteFrom('mirror_group_pinned_messages')
    .where('group_id', '=', groupId)
    .where('message_id', '=', messageId)
    .executeTakeFirst();
  if (numDeletedRows === 0n) return [];
  return [{ kind: 'group', groupId, frame: { type: 'chat:message_unpinned', payload: { messageId, groupId, unpinnedBy } } }];
}
