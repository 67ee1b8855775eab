/** What the group-stream specifications share: one group, one instant, and the events that set a scene. */
import { decide, evolve, initialGroupState, type GroupEvent, type MemberRole } from '../../../src/domain/groups.js';
import type { MessageSent } from '../../../src/domain/messages.js';
import { specFor } from './spec.js';

export const G = 'g-1';
export const at = '2026-01-01T12:00:00.000Z';
export const given = specFor({ initialState: () => initialGroupState(G), decide, evolve });

export const member = (userId: number, role: MemberRole = 'member'): GroupEvent => ({
  type: 'MemberAdded',
  data: { groupId: G, userId, username: `u${userId}`, role, addedBy: 1, addedAt: at },
});

/** Group G owned by user 1 (`u1`), with the other users as plain members (`u<id>`). */
export const groupOf = (...memberIds: number[]): GroupEvent[] => [
  { type: 'GroupCreated', data: { groupId: G, name: 'Team', ownerUserId: 1, createdAt: at } },
  member(1, 'owner'),
  ...memberIds.map((id) => member(id)),
];

/** `messageId` sent by user 1 at `at`, saying hello, unless `over` says otherwise. */
export const messageSent = (messageId: string, over: Partial<MessageSent['data']> = {}): MessageSent => ({
  type: 'MessageSent',
  data: {
    groupId: G, messageId, senderUserId: 1, content: 'hello', contentType: 'text', parentMessageId: null,
    threadRootId: null, clientMessageId: null, metadata: null, sentAt: at, ...over,
  },
});
