import { describe, it } from 'vitest';
import { decide, evolve, initialGroupState, type GroupEvent } from '../../../src/domain/groups.js';
import type { MessageSent } from '../../../src/domain/messages.js';
import { specFor } from './spec.js';

const G = 'g-1';
const at = '2026-01-01T12:00:00.000Z';
const given = specFor({ initialState: () => initialGroupState(G), decide, evolve });

const sent = (messageId: string, parentMessageId: string | null = null, threadRootId: string | null = null): MessageSent => ({
  type: 'MessageSent',
  data: {
    groupId: G, messageId, senderUserId: 1, content: 'hello', contentType: 'text', parentMessageId,
    threadRootId, clientMessageId: null, metadata: null, sentAt: at,
  },
});
const group: GroupEvent[] = [
  { type: 'GroupCreated', data: { groupId: G, name: 'Team', ownerUserId: 1, createdAt: at } },
  { type: 'MemberAdded', data: { groupId: G, userId: 1, username: 'u1', role: 'owner', addedBy: 1, addedAt: at } },
  sent('root'),
  sent('r1', 'root', 'root'),
];
const reply = (messageId: string, parentMessageId: string) => ({
  type: 'SendMessage' as const,
  data: { messageId, senderUserId: 1, content: 'hello', contentType: 'text' as const, parentMessageId, clientMessageId: null, metadata: null },
});

describe('replying', () => {
  it('keeps every reply of a chain under the same root', () =>
    given([...group, sent('r2', 'r1', 'root')]).when(reply('r3', 'r2'), new Date(at)).then([sent('r3', 'r2', 'root')]));

  it('answers NOT_FOUND when the parent was deleted', () =>
    given([...group, { type: 'MessageDeleted', data: { groupId: G, messageId: 'r1', deletedBy: 1, deletedAt: at } }])
      .when(reply('r2', 'r1'))
      .thenFails('NOT_FOUND'));

  it('answers NOT_FOUND for a parent of another group', () => given(group).when(reply('r2', 'message-of-another-group')).thenFails('NOT_FOUND'));
});
