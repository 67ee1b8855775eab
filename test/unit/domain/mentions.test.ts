import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/domain/errors.js';
import type { GroupEvent } from '../../../src/domain/groups.js';
import { detectMentions, mentionedUserIds, validateMentions } from '../../../src/domain/mentions.js';
import type { MentionInfo, MessageSent, SendMessage } from '../../../src/domain/messages.js';
import { G, at, given } from './group-fixtures.js';


const members = new Map([
  [1, { username: 'alice' }],
  [2, { username: 'alicex' }],
  [3, { username: 'bob.smith' }],
  [4, { username: 'carol' }],
]);
const user = (userId: number, startIndex: number): MentionInfo => {
  const username = members.get(userId)!.username;
  return { userId, username, startIndex, endIndex: startIndex + username.length + 1, type: 'user' };
};
const everyone = (startIndex: number): MentionInfo => ({ userId: 0, username: 'everyone', startIndex, endIndex: startIndex + 9, type: 'everyone' });

/** The field errors validation reports, or [] when it accepts. */
function faultsOf(content: string, mentions: MentionInfo[]): Array<{ field: string; message: string }> {
  try {
    validateMentions(content, mentions, members);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('VALIDATION_ERROR');
    return (error as DomainError).details!.fields as Array<{ field: string; message: string }>;
  }
}

describe('validating sent mentions', () => {
  it('accepts @username of a member at its indices', () => {
    expect(faultsOf('hi @alice and @carol', [user(1, 3), user(4, 14)])).toEqual([]);
  });

  it('accepts @everyone', () => expect(faultsOf('@everyone: standup', [everyone(0)])).toEqual([]));

  it('counts indices in UTF-16 units, as JavaScript clients do: an emoji before a mention shifts it by two', () => {
    const content = '👋 @alice';
    expect(content.indexOf('@alice')).toBe(3);
    expect(faultsOf(content, [user(1, 3)])).toEqual([]);
    // Counting the emoji as one character (code points) lands one unit early.
    expect(faultsOf(content, [user(1, 2)])).toEqual([{ field: 'metadata.mentions.0', message: 'the content there must read @alice' }]);
  });

  it('accepts the name in another letter case, since usernames are one regardless of case', () =>
    expect(faultsOf('hi @Alice', [user(1, 3)])).toEqual([]));

  it('refuses @alice marked inside @alicex', () =>
    expect(faultsOf('hi @alicex', [user(1, 3)])).toEqual([
      { field: 'metadata.mentions.0', message: 'must mark a whole @name, not part of a longer word' },
    ]));

  it('refuses a mention inside an address', () =>
    expect(faultsOf('mail bob@alice', [user(1, 8)])).toEqual([
      { field: 'metadata.mentions.0', message: 'must mark a whole @name, not part of a longer word' },
    ]));

  it('lists every faulty mention by its place', () => {
    const faults = faultsOf('hi @alice, @nobody, @carol', [
      user(1, 3),
      { userId: 99, username: 'nobody', startIndex: 11, endIndex: 18, type: 'user' },
      { ...user(4, 20), username: 'caroline' },
      { ...user(1, 3), startIndex: 20, endIndex: 40 },
      { ...everyone(0), endIndex: 9 },
      { ...user(1, 3), type: 'role' },
      { ...user(1, 3), startIndex: 5, endIndex: 5 },
    ]);
    expect(faults).toEqual([
      { field: 'metadata.mentions.1', message: 'must name a member of this group' },
      { field: 'metadata.mentions.2', message: 'the content there must read @carol' },
      { field: 'metadata.mentions.3', message: 'indices must mark a span inside the content' },
      { field: 'metadata.mentions.4', message: 'the content there must read @everyone' },
      { field: 'metadata.mentions.5', message: 'type must be user or everyone' },
      { field: 'metadata.mentions.6', message: 'indices must mark a span inside the content' },
    ]);
  });

  it('refuses text that names someone else', () =>
    expect(faultsOf('hi @carol', [{ ...user(1, 3), endIndex: 9 }])).toEqual([
      { field: 'metadata.mentions.0', message: 'the content there must read @alice' },
    ]));
});

describe('detecting mentions in text', () => {
  const names = (content: string) => detectMentions(content, members).map((m) => [m.username, m.startIndex, m.endIndex, m.type]);

  it('tells @alice from @alicex', () => {
    expect(names('@alice and @alicex')).toEqual([
      ['alice', 0, 6, 'user'],
      ['alicex', 11, 18, 'user'],
    ]);
    expect(names('@alicexy')).toEqual([]);
  });

  it('lets a sentence end right after a name, but not a longer name run on', () => {
    expect(names('thanks @alice.')).toEqual([['alice', 7, 13, 'user']]);
    expect(names('ask @alice-')).toEqual([['alice', 4, 10, 'user']]);
    expect(names('@bob.smith, and not @bob.smithers or @bob')).toEqual([['bob.smith', 0, 10, 'user']]);
    expect(names('@alice.b')).toEqual([]);
  });

  it('ignores addresses', () => expect(names('write to bob@alice or x.@carol')).toEqual([]));

  it('finds @everyone and punctuation-wrapped names', () =>
    expect(names('(@carol) @everyone!')).toEqual([
      ['carol', 1, 7, 'user'],
      ['everyone', 9, 18, 'everyone'],
    ]));

  it('gives UTF-16 indices after emoji', () => {
    const content = '🎉🎉 @carol';
    expect(names(content)).toEqual([['carol', 5, 11, 'user']]);
    expect(content.slice(5, 11)).toBe('@carol');
  });

  it('matches names in any letter case, keeping the member’s own spelling', () =>
    expect(detectMentions('hey @CAROL', members)).toEqual([{ userId: 4, username: 'carol', startIndex: 4, endIndex: 10, type: 'user' }]));

  it('finds every occurrence, in text order', () =>
    expect(names('@carol @alice @carol')).toEqual([
      ['carol', 0, 6, 'user'],
      ['alice', 7, 13, 'user'],
      ['carol', 14, 20, 'user'],
    ]));

  it('reads @everyone as everyone even with a member of that name', () =>
    expect(detectMentions('@everyone', new Map([[5, { username: 'everyone' }]]))).toEqual([everyone(0)]));
});

describe('whom mentions reach', () => {
  it('reaches the named members but never the sender', () =>
    expect(mentionedUserIds([user(1, 0), user(4, 7)], members.keys(), 4)).toEqual(new Map([[1, 'user']])));

  it('reaches every member but the sender for @everyone; a name of one’s own still says user', () =>
    expect(mentionedUserIds([everyone(0), user(3, 10)], members.keys(), 1)).toEqual(
      new Map<number, 'user' | 'everyone'>([
        [2, 'everyone'],
        [3, 'user'],
        [4, 'everyone'],
      ]),
    ));
});

describe('mentions in the group decider', () => {
  const group: GroupEvent[] = [
    { type: 'GroupCreated', data: { groupId: G, name: 'Team', ownerUserId: 1, createdAt: at } },
    ...[...members].map(([userId, m]): GroupEvent => ({
      type: 'MemberAdded',
      data: { groupId: G, userId, username: m.username, role: userId === 1 ? 'owner' : 'member', addedBy: 1, addedAt: at },
    })),
  ];
  const send = (content: string, metadata: SendMessage['data']['metadata']): SendMessage => ({
    type: 'SendMessage',
    data: { messageId: 'm1', senderUserId: 1, content, contentType: 'text', parentMessageId: null, clientMessageId: null, metadata },
  });
  const sent = (content: string, metadata: MessageSent['data']['metadata']): MessageSent => ({
    type: 'MessageSent',
    data: {
      groupId: G, messageId: 'm1', senderUserId: 1, content, contentType: 'text', parentMessageId: null,
      threadRootId: null, clientMessageId: null, metadata, sentAt: at,
    },
  });
  const now = new Date(at);

  it('keeps valid client mentions as sent', () =>
    given(group).when(send('hi @carol', { mentions: [user(4, 3)] }), now).then([sent('hi @carol', { mentions: [user(4, 3)] })]));

  it('refuses a message whose mentions do not match its text', () =>
    given(group).when(send('hi @carol', { mentions: [user(1, 3)] })).thenFails('VALIDATION_ERROR'));

  it('finds the mentions itself when the client marked none', () =>
    given(group).when(send('hi @carol', { links: [] }), now).then([sent('hi @carol', { links: [], mentions: [user(4, 3)] })]));

  it('finds them without any metadata too, and adds none to a text without them', () => {
    given(group).when(send('hi @carol', null), now).then([sent('hi @carol', { mentions: [user(4, 3)] })]);
    given(group).when(send('hi all', null), now).then([sent('hi all', null)]);
  });

  it('respects a client that says its text mentions no one', () =>
    given(group).when(send('`@carol` is a handle', { mentions: [] }), now).then([sent('`@carol` is a handle', { mentions: [] })]));

  it('derives an edited message’s mentions from its new text', () =>
    given([...group, sent('hi @carol', { mentions: [user(4, 3)] })])
      .when({ type: 'EditMessage', data: { messageId: 'm1', editorUserId: 1, content: 'hi @bob.smith, @everyone' } }, now)
      .then([
        {
          type: 'MessageEdited',
          data: { groupId: G, messageId: 'm1', content: 'hi @bob.smith, @everyone', mentions: [user(3, 3), everyone(15)], editedBy: 1, editedAt: at },
        },
      ]));
});
