import { describe, expect, it } from 'vitest';
import { MAX_DISTINCT_REACTIONS, isSingleEmoji, type ReactionAdded, type ReactionRemoved } from '../../../src/domain/reactions.js';
import { decide, evolve, initialGroupState, type GroupEvent } from '../../../src/domain/groups.js';
import { G, at, given, groupOf, messageSent } from './group-fixtures.js';

const now = new Date(at);
const group: GroupEvent[] = [...groupOf(2), messageSent('m1')];

const add = (emoji: string, userId = 2, messageId = 'm1') => ({ type: 'AddReaction' as const, data: { messageId, userId, emoji } });
const remove = (emoji: string, userId = 2) => ({ type: 'RemoveReaction' as const, data: { messageId: 'm1', userId, emoji } });
const added = (emoji: string, userId = 2): ReactionAdded => ({ type: 'ReactionAdded', data: { groupId: G, messageId: 'm1', userId, emoji, reactedAt: at } });
const removed = (emoji: string, userId = 2): ReactionRemoved => ({
  type: 'ReactionRemoved',
  data: { groupId: G, messageId: 'm1', userId, emoji, removedAt: at },
});

describe('what counts as one emoji', () => {
  it.each(['👍', '👍🏽', '👨‍👩‍👧', '🇫🇷', '1️⃣', '❤️', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '👩🏿‍❤️‍💋‍👨🏻'])('accepts %s', (emoji) => {
    expect(isSingleEmoji(emoji)).toBe(true);
  });

  it.each(['a', '👍👍', '', ':)', ' 👍', '🇫', '1', 'a⃣', '👍' + '\u0301'.repeat(20)])('refuses %j', (text) => {
    expect(isSingleEmoji(text)).toBe(false);
  });
});

describe('adding a reaction', () => {
  it('records who reacted with what', () => given(group).when(add('👍🏽'), now).then([added('👍🏽')]));

  it('accepts ZWJ sequences, flags and keycaps as one emoji', () => {
    for (const emoji of ['👨‍👩‍👧', '🇫🇷', '1️⃣']) given(group).when(add(emoji), now).then([added(emoji)]);
  });

  it.each(['a', '👍👍', '', ':)'])('answers VALIDATION_ERROR for %j', (text) => given(group).when(add(text)).thenFails('VALIDATION_ERROR'));

  it('changes nothing when the same user adds the same reaction again', () => given([...group, added('👍')]).when(add('👍')).then([]));

  it('lets another member add the same emoji', () => given([...group, added('👍')]).when(add('👍', 1), now).then([added('👍', 1)]));

  it('lets the same member add a different emoji', () => given([...group, added('👍')]).when(add('🎉'), now).then([added('🎉')]));

  describe(`at most ${MAX_DISTINCT_REACTIONS} different emoji on a message`, () => {
    const emoji = Array.from({ length: MAX_DISTINCT_REACTIONS }, (_, i) => String.fromCodePoint(0x1f600 + i));
    const full = [...group, ...emoji.map((e) => added(e, 1))];

    it('refuses one more, saying why', () => {
      let thrown: any;
      try {
        decide(add('🚀'), full.reduce(evolve, initialGroupState(G)), now);
      } catch (error) {
        thrown = error;
      }
      expect(thrown.code).toBe('VALIDATION_ERROR');
      expect(thrown.details.fields[0].message).toContain(String(MAX_DISTINCT_REACTIONS));
    });

    it('still lets members join an emoji already there', () => given(full).when(add(emoji[0]!), now).then([added(emoji[0]!)]));

    it('makes room again once an emoji has lost its last reactor', () =>
      given([...full, removed(emoji[0]!, 1)]).when(add('🚀'), now).then([added('🚀')]));
  });

  it('answers NOT_FOUND for an unknown or deleted message', () => {
    given(group).when(add('👍', 2, 'nope')).thenFails('NOT_FOUND');
    given([...group, { type: 'MessageDeleted', data: { groupId: G, messageId: 'm1', deletedBy: 1, deletedAt: at } }])
      .when(add('👍'))
      .thenFails('NOT_FOUND');
  });

  it('refuses someone who is not a member', () => given(group).when(add('👍', 9)).thenFails('FORBIDDEN'));
});

describe('removing a reaction', () => {
  it('removes one’s own reaction', () => given([...group, added('👍')]).when(remove('👍'), now).then([removed('👍')]));

  it('changes nothing when one had not reacted with that emoji', () => given([...group, added('👍', 1)]).when(remove('👍')).then([]));

  it('changes nothing the second time', () => given([...group, added('👍'), removed('👍')]).when(remove('👍')).then([]));

  it('answers VALIDATION_ERROR for text', () => given(group).when(remove(':)')).thenFails('VALIDATION_ERROR'));
});
