/** Pins: any member pins a live message with an optional note (≤ 500 characters); at most 50 pins per group. */
import { DomainError } from './errors.js';
import type { GroupState } from './groups.js';

export const MAX_PINS = 50;
export const MAX_PIN_NOTE_LENGTH = 500;

export interface MessagePinned {
  type: 'MessagePinned';
  data: { groupId: string; messageId: string; pinnedBy: number; note: string | null; pinnedAt: string };
}
export interface MessageUnpinned {
  type: 'MessageUnpinned';
  data: { groupId: string; messageId: string; unpinnedBy: number; unpinnedAt: string };
}
export type PinEvent = MessagePinned | MessageUnpinned;

export interface PinMessage {
  type: 'PinMessage';
  data: { messageId: string; userId: number; note: string | null };
}
export interface UnpinMessage {
  type: 'UnpinMessage';
  data: { messageId: string; userId: number };
}
export type PinCommand = PinMessage | UnpinMessage;

export function decidePin(command: PinCommand, state: GroupState, now: Date): PinEvent[] {
  const { messageId, userId } = command.data;
  if (!state.members.has(userId)) throw new DomainError('FORBIDDEN', 'You are not a member of this group');
  const message = state.messages.get(messageId);
  if (!message || message.deleted) throw new DomainError('NOT_FOUND', 'Message not found');
  const at = now.toISOString();
  if (command.type === 'UnpinMessage') {
    if (!message.pinned) return [];
    return [{ type: 'MessageUnpinned', data: { groupId: state.groupId, messageId, unpinnedBy: userId, unpinnedAt: at } }];
  }
  const note = command.data.note;
  if (note !== null && [...note].length > MAX_PIN_NOTE_LENGTH) {
    throw DomainError.validation([{ field: 'note', message: `must be at most ${MAX_PIN_NOTE_LENGTH} characters` }]);
  }
  if (!message.pinned && state.pinnedCount >= MAX_PINS) {
    throw DomainError.validation([{ field: 'messageId', message: `a group can have at most ${MAX_PINS} pinned messages; unpin one first` }]);
  }
  // Pinning again with a new note re-pins: the note changes and the pin moves to the top.
  return [{ type: 'MessagePinned', data: { groupId: state.groupId, messageId, pinnedBy: userId, note, pinnedAt: at } }];
}

export function evolvePin(state: GroupState, event: PinEvent): GroupState {
  const message = state.messages.get(event.data.messageId);
  if (!message) return state;
  const pinned = event.type === 'MessagePinned';
  if (pinned !== message.pinned) state.pinnedCount += pinned ? 1 : -1;
  message.pinned = pinned;
  return state;
}
