/** A page shows each message's own reactions, readers, pin and reply preview, however many share the page. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { GroupEvent } from '../../../src/domain/groups.js';
import { groupStreamId } from '../../../src/infra/crypto/event-sealing.js';
import { listMessages } from '../../../src/projections/queries/messages.js';
import { listPinned } from '../../../src/projections/queries/pins.js';
import { append, messageSent, seedGroup, seedUser, untilProjected, useProjectedReadSide, type ReadSide } from '../../support/read-side.js';

let side: ReadSide;
useProjectedReadSide((opened) => (side = opened));

describe('a page of messages', () => {
  let groupId: string;
  let alice: { userId: number; username: string };
  let bob: { userId: number; username: string };
  let rootId: string;
  const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, second)).toISOString();

  beforeAll(async () => {
    [alice, bob] = [await seedUser(side, 'alice'), await seedUser(side, 'bob')];
    ({ groupId } = await seedGroup(side, alice.userId, [bob.userId]));
    const root = messageSent(groupId, alice.userId, 'zero');
    rootId = root.data.messageId;
    const sent = [
      root,
      messageSent(groupId, bob.userId, 'one', { parentMessageId: rootId, threadRootId: rootId }),
      messageSent(groupId, alice.userId, 'two'),
      messageSent(groupId, bob.userId, 'three'),
    ];
    const [m0, m1, m2] = sent.map((m) => m.data.messageId) as [string, string, string];
    const reacted = (messageId: string, userId: number, emoji: string, second: number): GroupEvent => ({
      type: 'ReactionAdded',
      data: { groupId, messageId, userId, emoji, reactedAt: at(second) },
    });
    const { position } = await append(side, groupStreamId(groupId), [
      ...sent,
      reacted(m0, bob.userId, '🎉', 1),
      reacted(m0, alice.userId, '👍', 2),
      reacted(m0, bob.userId, '👍', 3),
      reacted(m2, alice.userId, '🎉', 4),
      { type: 'MessagesRead', data: { groupId, userId: bob.userId, messageIds: [m0, m2], readAt: at(5) } },
      { type: 'MessagePinned', data: { groupId, messageId: m2, pinnedBy: bob.userId, note: 'remember', pinnedAt: at(6) } },
      { type: 'MessagePinned', data: { groupId, messageId: m1, pinnedBy: alice.userId, note: null, pinnedAt: at(7) } },
    ]);
    await untilProjected(side, position);
  });

  const page = async (viewerId: number) => (await listMessages(side, { groupId, direction: 'after', limit: 10, viewerId })).messages;
  const user = (u: { userId: number; username: string }) => ({ userId: u.userId, username: u.username });

  it('gives each message its own reactions, emoji in the order first used, with the viewer’s hasReacted', async () => {
    const asAlice = await page(alice.userId);
    expect(asAlice.map((m) => m.reactions)).toEqual([
      [
        { emoji: '🎉', count: 1, users: [user(bob)], hasReacted: false },
        { emoji: '👍', count: 2, users: [user(alice), user(bob)], hasReacted: true },
      ],
      [],
      [{ emoji: '🎉', count: 1, users: [user(alice)], hasReacted: true }],
      [],
    ]);
    const asBob = await page(bob.userId);
    expect(asBob.map((m) => m.reactions.map((r) => r.hasReacted))).toEqual([[true, true], [], [false], []]);
  });

  it('gives each message its readers, its pin and, for a reply, its parent’s preview', async () => {
    const messages = await page(alice.userId);
    expect(messages.map((m) => m.readBy)).toEqual([[bob.userId], [], [bob.userId], []]);
    expect(messages.map((m) => m.metadata)).toEqual([
      {},
      {
        replyPreview: { messageId: rootId, senderUsername: alice.username, content: 'zero' },
        pinNote: null,
        pinnedAt: at(7),
        pinnedBy: alice.userId,
      },
      { pinNote: 'remember', pinnedAt: at(6), pinnedBy: bob.userId },
      {},
    ]);
  });

  it('lists the pinned ones newest pin first, as the page shows them', async () => {
    const messages = await page(bob.userId);
    expect(await listPinned(side, groupId, bob.userId)).toEqual([messages[1], messages[2]]);
  });
});
