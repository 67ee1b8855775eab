/** Who reacted to which message with what; every change is broadcast as the message's whole reaction list. */
import type { Broadcast } from './broadcasts.js';
import type { Projection } from './projector.js';
import { reactionSummaries } from './queries/message-details.js';
import type { ReadTransaction } from './schema.js';

export const reactionsProjection: Projection = {
  name: 'reactions',
  tables: { writes: ['mirror_group_message_reactions'], reads: ['mirror_users'] },
  async apply(trx, { event }): Promise<Broadcast[]> {
    switch (event.type) {
      case 'ReactionAdded': {
        const r = event.data;
        const known = await trx
          .selectFrom('mirror_group_message_reactions')
          .select('user_id')
          .where('message_id', '=', r.messageId)
          .where('emoji', '=', r.emoji)
          .where('user_id', '=', r.userId)
          .executeTakeFirst();
        if (known) return [];
        await trx
          .insertInto('mirror_group_message_reactions')
          .values({ message_id: r.messageId, emoji: r.emoji, user_id: r.userId, group_id: r.groupId, created_at: new Date(r.reactedAt) })
          .execute();
        return [await reactionsUpdated(trx, r.groupId, r.messageId)];
      }
      case 'ReactionRemoved': {
        const r = event.data;
        await trx
          .deleteFrom('mirror_group_message_reactions')
          .where('message_id', '=', r.messageId)
          .where('emoji', '=', r.emoji)
          .where('user_id', '=', r.userId)
          .execute();
        return [await reactionsUpdated(trx, r.groupId, r.messageId)];
      }
      case 'MessageDeleted':
        // chat:message_deleted tells clients enough: a deleted message shows no reactions.
        await trx.deleteFrom('mirror_group_message_reactions').where('message_id', '=', event.data.messageId).execute();
        return [];
      default:
        return [];
    }
  },
};

/** `hasReacted` is false here; the gateway sets it for each recipient (broadcasts.ts, forRecipient). */
async function reactionsUpdated(trx: ReadTransaction, groupId: string, messageId: string): Promise<Broadcast> {
  const reactions = (await reactionSummaries(trx, [messageId], null)).get(messageId) ?? [];
  return { kind: 'group', groupId, frame: { type: 'chat:reactions_updated', payload: { messageId, groupId, reactions } } };
}
