import { describe, it } from 'vitest';
import type { GroupEvent } from '../../../src/domain/groups.js';
import { G, at, given, groupOf, messageSent } from './group-fixtures.js';

const sent = (messageId: string, parentMessageId: string | null = null, threadRootId: string | null = null) =>
  messageSent(messageId, { parentMessageId, threadRootId });
const group: GroupEvent[] = [...groupOf(), sent('root'), sent('r1', 'root', 'root')];
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
