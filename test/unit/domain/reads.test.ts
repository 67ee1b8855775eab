import { describe, it } from 'vitest';
import type { MarkRead } from '../../../src/domain/reads.js';
import type { GroupEvent } from '../../../src/domain/groups.js';
import { G, at, given, groupOf, messageSent } from './group-fixtures.js';

const now = new Date('2026-01-01T13:00:00.000Z');
const group = groupOf(2, 3);
const sent = (messageId: string, senderUserId: number) => messageSent(messageId, { senderUserId, content: messageId });
const history: GroupEvent[] = [...group, sent('m1', 1), sent('m2', 2), sent('m3', 3), sent('m4', 1)];
const markRead = (userId: number, messageIds: string[]): MarkRead => ({ type: 'MarkRead', data: { userId, messageIds } });
const read = (userId: number, messageIds: string[]): GroupEvent => ({
  type: 'MessagesRead',
  data: { groupId: G, userId, messageIds, readAt: now.toISOString() },
});

describe('marking messages read', () => {
  it('records the reader, the messages and when', () =>
    given(history).when(markRead(2, ['m1', 'm3']), now).then([read(2, ['m1', 'm3'])]));

  it('drops the reader’s own messages', () => given(history).when(markRead(1, ['m1', 'm2', 'm4']), now).then([read(1, ['m2'])]));

  it('drops deleted messages', () =>
    given([...history, { type: 'MessageDeleted', data: { groupId: G, messageId: 'm3', deletedBy: 3, deletedAt: at } }])
      .when(markRead(2, ['m1', 'm3']), now)
      .then([read(2, ['m1'])]));

  it('records nothing when nothing is left to read', () => given(history).when(markRead(2, ['m2']), now).then([]));

  it('names each message once however often it is asked for', () =>
    given(history).when(markRead(2, ['m1', 'm1', 'm3', 'm1']), now).then([read(2, ['m1', 'm3'])]));

  it('may mark a message read again: the read models keep the first time', () =>
    given([...history, read(2, ['m1'])]).when(markRead(2, ['m1']), now).then([read(2, ['m1'])]));

  it('takes up to 100 ids at once', () => {
    const many = Array.from({ length: 100 }, (_, i) => sent(`x${i}`, 1));
    return given([...group, ...many])
      .when(markRead(2, many.map((e) => e.data.messageId)), now)
      .then([read(2, many.map((e) => e.data.messageId))]);
  });

  it('refuses more than 100 ids', () => {
    const many = Array.from({ length: 101 }, (_, i) => sent(`x${i}`, 1));
    return given([...group, ...many]).when(markRead(2, many.map((e) => e.data.messageId))).thenFails('VALIDATION_ERROR');
  });

  it('refuses an empty list', () => given(history).when(markRead(2, [])).thenFails('VALIDATION_ERROR'));

  it('refuses ids that are not messages of this group', () =>
    given(history).when(markRead(2, ['m1', 'm-of-another-group'])).thenFails('VALIDATION_ERROR'));

  it('refuses someone who is not a member', () => given(history).when(markRead(9, ['m1'])).thenFails('FORBIDDEN'));

  it('refuses a member who has left', () =>
    given([...history, { type: 'MemberRemoved', data: { groupId: G, userId: 3, removedBy: 3, removedAt: at } }])
      .when(markRead(3, ['m1']))
      .thenFails('FORBIDDEN'));

  it('answers NOT_FOUND for a group that does not exist', () => given([]).when(markRead(2, ['m1'])).thenFails('NOT_FOUND'));
});
