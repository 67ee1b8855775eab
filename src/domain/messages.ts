/**
 * Messages of a group: send, edit (own, within 24 h, not once deleted), soft-delete (own; owner/admin any).
 * The rules read the group's state; the group decider (groups.ts) routes these commands here.
 */
import { DomainError } from './errors.js';
import type { GroupState } from './groups.js';
import { detectMentions, mentionsOnSend } from './mentions.js';

export const messageContentTypes = ['text', 'image', 'file', 'voice', 'system'] as const;
export type MessageContentType = (typeof messageContentTypes)[number];

export const MAX_CONTENT_LENGTH = 10_000;
export const EDIT_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface MentionInfo {
  userId: number;
  username: string;
  startIndex: number;
  endIndex: number;
  type: 'user' | 'everyone' | 'role';
}

/** The guide's MessageMetadata, as far as a client may send it. */
export interface MessageMetadata {
  mentions?: MentionInfo[];
  links?: Array<{ url: string; title?: string; description?: string; image?: string; startIndex: number; endIndex: number }>;
  formatting?: Record<string, unknown>;
  custom?: Record<string, unknown>;
}

export interface MessageSent {
  type: 'MessageSent';
  data: {
    groupId: string;
    messageId: string;
    senderUserId: number;
    content: string;
    contentType: MessageContentType;
    parentMessageId: string | null;
    threadRootId: string | null;
    clientMessageId: string | null;
    metadata: MessageMetadata | null;
    sentAt: string;
  };
}

export interface MessageEdited {
  type: 'MessageEdited';
  /**
   * `mentions`: those the new text holds (see mentions.ts), replacing the message's earlier ones. Edits recorded before
   * mentions were derived have none and leave the earlier ones as they were.
   */
  data: { groupId: string; messageId: string; content: string; mentions?: MentionInfo[]; editedBy: number; editedAt: string };
}

export interface MessageDeleted {
  type: 'MessageDeleted';
  data: { groupId: string; messageId: string; deletedBy: number; deletedAt: string };
}

export type MessageEvent = MessageSent | MessageEdited | MessageDeleted;

export interface SendMessage {
  type: 'SendMessage';
  data: {
    messageId: string;
    senderUserId: number;
    content: string;
    contentType: MessageContentType;
    parentMessageId: string | null;
    clientMessageId: string | null;
    metadata: MessageMetadata | null;
  };
}

export interface EditMessage {
  type: 'EditMessage';
  data: { messageId: string; editorUserId: number; content: string };
}

export interface DeleteMessage {
  type: 'DeleteMessage';
  data: { messageId: string; actorUserId: number };
}

export type MessageCommand = SendMessage | EditMessage | DeleteMessage;

/** What decisions need to know about one message. */
export interface MessageFacts {
  senderUserId: number;
  sentAt: number;
  deleted: boolean;
  threadRootId: string | null;
  pinned: boolean;
  /** emoji → who reacted with it; absent until the first reaction, as most messages never get one. */
  reactions?: Map<string, Set<number>>;
}

export const clientMessageKey = (senderUserId: number, clientMessageId: string) => `${senderUserId}:${clientMessageId}`;

/** The message a (sender, clientMessageId) pair already created, if any: retries are answered with it. */
export function findByClientMessageId(state: GroupState, senderUserId: number, clientMessageId: string): string | undefined {
  return state.clientMessages.get(clientMessageKey(senderUserId, clientMessageId));
}

function requireMember(state: GroupState, userId: number): void {
  if (!state.members.has(userId)) throw new DomainError('FORBIDDEN', 'You are not a member of this group');
}

function requireLiveMessage(state: GroupState, messageId: string): MessageFacts {
  const message = state.messages.get(messageId);
  if (!message) throw new DomainError('NOT_FOUND', 'Message not found');
  if (message.deleted) throw new DomainError('NOT_FOUND', 'Message was deleted');
  return message;
}

export function decideMessage(command: MessageCommand, state: GroupState, now: Date): MessageEvent[] {
  const groupId = state.groupId;
  switch (command.type) {
    case 'SendMessage': {
      const c = command.data;
      requireMember(state, c.senderUserId);
      if (c.clientMessageId && findByClientMessageId(state, c.senderUserId, c.clientMessageId)) return [];
      const parent = c.parentMessageId ? requireLiveMessage(state, c.parentMessageId) : null;
      const metadata = mentionsOnSend(c.content, c.metadata, state.members);
      return [
        {
          type: 'MessageSent',
          data: {
            groupId,
            messageId: c.messageId,
            senderUserId: c.senderUserId,
            content: c.content,
            contentType: c.contentType,
            parentMessageId: c.parentMessageId,
            threadRootId: parent ? (parent.threadRootId ?? c.parentMessageId) : null,
            clientMessageId: c.clientMessageId,
            metadata,
            sentAt: now.toISOString(),
          },
        },
      ];
    }
    case 'EditMessage': {
      const c = command.data;
      requireMember(state, c.editorUserId);
      const message = requireLiveMessage(state, c.messageId);
      if (message.senderUserId !== c.editorUserId) throw new DomainError('FORBIDDEN', 'You can only edit your own messages');
      if (now.getTime() - message.sentAt > EDIT_WINDOW_MS) {
        throw new DomainError('MESSAGE_TOO_OLD', 'Messages can only be edited within 24 hours');
      }
      return [
        {
          type: 'MessageEdited',
          data: {
            groupId,
            messageId: c.messageId,
            content: c.content,
            mentions: detectMentions(c.content, state.members),
            editedBy: c.editorUserId,
            editedAt: now.toISOString(),
          },
        },
      ];
    }
    case 'DeleteMessage': {
      const c = command.data;
      requireMember(state, c.actorUserId);
      const message = state.messages.get(c.messageId);
      if (!message) throw new DomainError('NOT_FOUND', 'Message not found');
      if (message.deleted) return [];
      const role = state.members.get(c.actorUserId)?.role;
      const moderator = role === 'owner' || role === 'admin';
      if (message.senderUserId !== c.actorUserId && !moderator) {
        throw new DomainError('FORBIDDEN', 'You can only delete your own messages');
      }
      return [
        { type: 'MessageDeleted', data: { groupId, messageId: c.messageId, deletedBy: c.actorUserId, deletedAt: now.toISOString() } },
      ];
    }
  }
}

/** Updates `state` in place: a group may hold millions of messages, and copying them per event would be quadratic. */
export function evolveMessage(state: GroupState, event: MessageEvent): GroupState {
  switch (event.type) {
    case 'MessageSent': {
      const e = event.data;
      state.messages.set(e.messageId, {
        senderUserId: e.senderUserId,
        sentAt: Date.parse(e.sentAt),
        deleted: false,
        threadRootId: e.threadRootId,
        pinned: false,
      });
      if (e.clientMessageId) state.clientMessages.set(clientMessageKey(e.senderUserId, e.clientMessageId), e.messageId);
      return state;
    }
    case 'MessageEdited':
      return state;
    case 'MessageDeleted': {
      const message = state.messages.get(event.data.messageId);
      if (!message) return state;
      message.deleted = true;
      // A deleted message is unpinned (the pins projection drops its row on the same event).
      if (message.pinned) state.pinnedCount--;
      message.pinned = false;
      message.reactions = undefined;
      return state;
    }
  }
}
