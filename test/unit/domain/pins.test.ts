import { describe, it } from 'vitest';
import { MAX_PINS, MAX_PIN_NOTE_LENGTH, type MessagePinned, type MessageUnpinned } from '../../../src/domain/pins.js';
import type { GroupEvent } from '../../../src/domain/groups.js';
import { G, at, given, groupOf, messageSent } from './group-fixtures.js';

const now = new Date(at);
const sent = (messageId: string) => messageSent(messageId);
const group: GroupEvent[] = [...groupOf(2), sent('m1')];

const pin = (messageId = 'm1', note: string | null = null, userId = 2) => ({ type: 'PinMessage' as const, data: { messageId, userId, note } });
const unpin = (messageId = 'm1', userId = 2) => ({ type: 'UnpinMessage' as const, data: { messageId, userId } });
const pinned = (messageId = 'm1', note: string | null = null, pinnedBy = 2): MessagePinned => ({
  type: 'MessagePinned',
  data: { groupId: G, messageId, pinnedBy, note, pinnedAt: at },
});
const unpinned = (messageId = 'm1', unpinnedBy = 2): MessageUnpinned => ({
  type: 'MessageUnpinned',
  data: { groupId: G, messageId, unpinnedBy, unpinnedAt: at },
});
const deleted = (messageId: string): GroupEvent => ({ type: 'MessageDeleted', data: { groupId: G, messageId, deletedBy: 1, deletedAt: at } });

describe('pinning', () => {
  it('lets any member pin a message, with or without a note', () => {
    given(group).when(pin(), now).then([pinned()]);
    given(group).when(pin('m1', 'read this first'), now).then([pinned('m1', 'read this first')]);
  });

  it(`takes a note of ${MAX_PIN_NOTE_LENGTH} characters, counting emoji as one`, () =>
    given(group).when(pin('m1', '🎉'.repeat(MAX_PIN_NOTE_LENGTH)), now).then([pinned('m1', '🎉'.repeat(MAX_PIN_NOTE_LENGTH))]));

  it('answers VALIDATION_ERROR for a longer note', () => given(group).when(pin('m1', 'x'.repeat(MAX_PIN_NOTE_LENGTH + 1))).thenFails('VALIDATION_ERROR'));

  it('pins again with the new note, which moves the pin to the top', () =>
    given([...group, pinned('m1', 'old')]).when(pin('m1', 'new', 1), now).then([pinned('m1', 'new', 1)]));

  it('answers NOT_FOUND for an unknown or deleted message', () => {
    given(group).when(pin('nope')).thenFails('NOT_FOUND');
    given([...group, deleted('m1')]).when(pin()).thenFails('NOT_FOUND');
  });

  it('refuses someone who is not a member', () => given(group).when(pin('m1', null, 9)).thenFails('FORBIDDEN'));

  describe(`at most ${MAX_PINS} pins per group`, () => {
    const ids = Array.from({ length: MAX_PINS }, (_, i) => `p${i}`);
    const full = [...group, ...ids.flatMap((id) => [sent(id), pinned(id)])];

    it('refuses one more with VALIDATION_ERROR', () => given(full).when(pin('m1')).thenFails('VALIDATION_ERROR'));

    it('still lets a pinned message be pinned again', () => given(full).when(pin('p0', 'again'), now).then([pinned('p0', 'again')]));

    it('makes room once a pin is removed', () => given([...full, unpinned('p0')]).when(pin('m1'), now).then([pinned('m1')]));

    it('makes room once a pinned message is deleted', () => given([...full, deleted('p0')]).when(pin('m1'), now).then([pinned('m1')]));
  });
});

describe('unpinning', () => {
  it('lets any member unpin', () => given([...group, pinned('m1', null, 1)]).when(unpin(), now).then([unpinned()]));

  it('changes nothing for a message that is not pinned', () => given(group).when(unpin()).then([]));

  it('answers NOT_FOUND once the pinned message is deleted (deleting unpinned it)', () =>
    given([...group, pinned(), deleted('m1')]).when(unpin()).thenFails('NOT_FOUND'));
});
