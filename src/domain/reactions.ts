/** Reactions: one emoji grapheme per reaction, once per user and emoji, at most 50 distinct emoji on a message. */
import { DomainError } from './errors.js';
import type { GroupState } from './groups.js';

export const MAX_DISTINCT_REACTIONS = 50;

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });
/** The longest standard sequences (a kiss with two skin tones) have 10 code points; a grapheme may pile up far more. */
const MAX_EMOJI_CODE_POINTS = 16;

/** One user-perceived character that is an emoji: skin tones, ZWJ families, flags and keycaps count as one. */
export function isSingleEmoji(text: string): boolean {
  if ([...text].length > MAX_EMOJI_CODE_POINTS) return false;
  const parts = [...graphemes.segment(text)];
  if (parts.length !== 1) return false;
  return /\p{Extended_Pictographic}|^\p{Regional_Indicator}{2}$|^[0-9#*]\uFE0F?\u20E3$/u.test(text);
}

export interface ReactionAdded {
  type: 'ReactionAdded';
  data: { groupId: string; messageId: string; userId: number; emoji: string; reactedAt: string };
}
export interface ReactionRemoved {
  type: 'ReactionRemoved';
  data: { groupId: string; messageId: string; userId: number; emoji: string; removedAt: string };
}
export type ReactionEvent = ReactionAdded | ReactionRemoved;

export interface AddReaction {
  type: 'AddReaction';
  data: { messageId: string; userId: number; emoji: string };
}
export interface RemoveReaction {
  type: 'RemoveReaction';
  data: { messageId: string; userId: number; emoji: string };
}
export type ReactionCommand = AddReaction | RemoveReaction;

export function decideReaction(command: ReactionCommand, state: GroupState, now: Date): ReactionEvent[] {
  const { messageId, userId, emoji } = command.data;
  if (!state.members.has(userId)) throw new DomainError('FORBIDDEN', 'You are not a member of this group');
  const message = state.messages.get(messageId);
  if (!message || message.deleted) throw new DomainError('NOT_FOUND', 'Message not found');
  if (!isSingleEmoji(emoji)) throw DomainError.validation([{ field: 'emoji', message: 'must be a single emoji' }]);
  const users = message.reactions?.get(emoji);
  const at = now.toISOString();
  if (command.type === 'AddReaction') {
    if (users?.has(userId)) return [];
    if (!users && (message.reactions?.size ?? 0) >= MAX_DISTINCT_REACTIONS) {
      throw DomainError.validation([{ field: 'emoji', message: `a message can carry at most ${MAX_DISTINCT_REACTIONS} different emoji` }]);
    }
    return [{ type: 'ReactionAdded', data: { groupId: state.groupId, messageId, userId, emoji, reactedAt: at } }];
  }
  if (!users?.has(userId)) return [];
  return [{ type: 'ReactionRemoved', data: { groupId: state.groupId, messageId, userId, emoji, removedAt: at } }];
}

export function evolveReaction(state: GroupState, event: ReactionEvent): GroupState {
  const message = state.messages.get(event.data.messageId);
  if (!message) return state;
  const { emoji, userId } = event.data;
  message.reactions ??= new Map();
  const users = message.reactions.get(emoji) ?? new Set<number>();
  if (event.type === 'ReactionAdded') users.add(userId);
  else users.delete(userId);
  if (users.size > 0) message.reactions.set(emoji, users);
  else message.reactions.delete(emoji);
  return state;
}
