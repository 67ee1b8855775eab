/** Read receipts: a member marks up to 100 messages of the group as read at once. */
import { DomainError } from './errors.js';
import type { GroupState } from './groups.js';

export const MAX_READ_BATCH = 100;

export interface MessagesRead {
  type: 'MessagesRead';
  data: { groupId: string; userId: number; messageIds: string[]; readAt: string };
}

export interface MarkRead {
  type: 'MarkRead';
  data: { userId: number; messageIds: string[] };
}

export function decideRead(command: MarkRead, state: GroupState, now: Date): MessagesRead[] {
  const { userId, messageIds } = command.data;
  if (!state.members.has(userId)) throw new DomainError('FORBIDDEN', 'You are not a member of this group');
  if (messageIds.length === 0 || messageIds.length > MAX_READ_BATCH) {
    throw DomainError.validation([{ field: 'messageIds', message: `must hold 1 to ${MAX_READ_BATCH} message ids` }]);
  }
  const foreign = messageIds.filter((id) => !state.messages.has(id));
  if (foreign.length > 0) {
    throw DomainError.validation([{ field: 'messageIds', message: `not messages of this group: ${foreign.join(', ')}` }]);
  }
  // Receipts for one's own or deleted messages say nothing to anyone.
  const readable = [...new Set(messageIds)].filter((id) => {
    const m = state.messages.get(id)!;
    return !m.deleted && m.senderUserId !== userId;
  });
  if (readable.length === 0) return [];
  return [{ type: 'MessagesRead', data: { groupId: state.groupId, userId, messageIds: readable, readAt: now.toISOString() } }];
}
