import { describe, it } from 'vitest';
import type { GroupEvent } from '../../../src/domain/groups.js';
import type { MessageSent, SendMessage } from '../../../src/domain/messages.js';
import { G, at, given, groupOf, messageSent } from './group-fixtures.js';

const t0 = new Date(at);
const hoursLater = (h: number) => new Date(t0.getTime() + h * 3600_000);
const group = groupOf(2, 3);

const send = (over: Partial<SendMessage['data']> = {}): SendMessage => ({
  type: 'SendMessage',
  data: { messageId: 'm1', senderUserId: 2, content: 'hello', contentType: 'text', parentMessageId: null, clientMessageId: null, metadata: null, ...over },
});
const sent = (over: Partial<MessageSent['data']> = {}) => messageSent('m1', { senderUserId: 2, ...over });
const deleted = (messageId: string, by: number): GroupEvent => ({
  type: 'MessageDeleted',
  data: { groupId: G, messageId, deletedBy: by, deletedAt: t0.toISOString() },
});

describe('sending', () => {
  it('records the message with the time it was sent', () => given(group).when(send(), t0).then([sent()]));

  it('refuses someone who is not a member', () => given(group).when(send({ senderUserId: 9 })).thenFails('FORBIDDEN'));

  it('answers a retry with the same clientMessageId by appending nothing', () =>
    given([...group, sent({ clientMessageId: 'c-1' })]).when(send({ messageId: 'm2', clientMessageId: 'c-1' })).then([]));

  it('keeps clientMessageIds apart per sender', () =>
    given([...group, sent({ clientMessageId: 'c-1' })])
      .when(send({ messageId: 'm2', senderUserId: 3, clientMessageId: 'c-1' }), t0)
      .then([sent({ messageId: 'm2', senderUserId: 3, clientMessageId: 'c-1' })]));

  it('threads a reply under the root of its parent’s chain', () =>
    given([...group, sent(), sent({ messageId: 'm2', parentMessageId: 'm1', threadRootId: 'm1' })])
      .when(send({ messageId: 'm3', parentMessageId: 'm2' }), t0)
      .then([sent({ messageId: 'm3', parentMessageId: 'm2', threadRootId: 'm1' })]));

  it('answers NOT_FOUND for a parent that is not in the group', () =>
    given(group).when(send({ parentMessageId: 'elsewhere' })).thenFails('NOT_FOUND'));
});

describe('editing', () => {
  const edit = (by = 2, content = 'hello again') => ({ type: 'EditMessage' as const, data: { messageId: 'm1', editorUserId: by, content } });

  it('lets the sender edit within 24 hours', () =>
    given([...group, sent()]).when(edit(), hoursLater(23.9)).then([
      { type: 'MessageEdited', data: { groupId: G, messageId: 'm1', content: 'hello again', mentions: [], editedBy: 2, editedAt: hoursLater(23.9).toISOString() } },
    ]));

  it('answers MESSAGE_TOO_OLD after 24 hours', () => given([...group, sent()]).when(edit(), hoursLater(24.1)).thenFails('MESSAGE_TOO_OLD'));

  it('does not let anyone else edit, not even the owner', () => given([...group, sent()]).when(edit(1)).thenFails('FORBIDDEN'));

  it('cannot edit a deleted message', () => given([...group, sent(), deleted('m1', 2)]).when(edit()).thenFails('NOT_FOUND'));

  it('answers NOT_FOUND for an unknown message', () =>
    given(group).when({ type: 'EditMessage', data: { messageId: 'nope', editorUserId: 2, content: 'x' } }).thenFails('NOT_FOUND'));
});

describe('deleting', () => {
  const del = (by: number) => ({ type: 'DeleteMessage' as const, data: { messageId: 'm1', actorUserId: by } });

  it('lets the sender delete their message', () => given([...group, sent()]).when(del(2), t0).then([deleted('m1', 2)]));

  it('lets the group owner delete anyone’s message', () => given([...group, sent()]).when(del(1), t0).then([deleted('m1', 1)]));

  it('does not let another member delete it', () => given([...group, sent()]).when(del(3)).thenFails('FORBIDDEN'));

  it('changes nothing when the message is already deleted', () => given([...group, sent(), deleted('m1', 2)]).when(del(2)).then([]));
});
