import type { ChatMessage } from './chat-message.js';
import { selectChatMessages } from './chat-message.js';
import { readDb, type ReadContext } from './context.js';
import { toChatMessages } from './message-details.js';

/** The group's pinned messages, newest pin first; each carries pinNote, pinnedAt and pinnedBy in its metadata. */
export async function listPinned(ctx: ReadContext, groupId: string, viewerId: number): Promise<ChatMessage[]> {
  const db = readDb(ctx);
  const rows = await selectChatMessages(db)
    .innerJoin('mirror_group_pinned_messages as p', (join) => join.onRef('p.group_id', '=', 'm.group_id').onRef('p.message_id', '=', 'm.id'))
    .where('p.group_id', '=', groupId)
    .orderBy('p.pin_seq', 'desc')
    .execute();
  return toChatMessages(db, ctx.crypto, rows, viewerId);
}
