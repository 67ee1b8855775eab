/**
 * Reactions as three members see them: each REST change reaches every member's socket as `chat:reactions_updated`
 * with that member's own `hasReacted`, and shows in the next GET.
 */
import { describe, expect, it } from 'vitest';
import { useRooms } from '../support/chat-rooms.js';
import type { Frame, TestUser } from '../support/client.js';

let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let eve: TestUser;
const newRoom = useRooms((cast) => ({ alice, bob, carol, eve } = cast));

/** A fresh room, and what the tests below do in it. */
async function room() {
  const { groupId, chat, a, b, c } = await newRoom();
  const sent = await alice.api.post(`${chat}/messages`, { content: 'react to me' });
  const messageId: string = sent.body.data.message.id;
  for (const s of [a, b, c]) await s.nextOfType('chat:message');
  const reactions = `${chat}/messages/${messageId}/reactions`;
  const react = (user: TestUser, emoji: string) => user.api.post(reactions, { emoji });
  const unreact = (user: TestUser, emoji: string) => user.api.delete(`${reactions}/${encodeURIComponent(emoji)}`);
  /** The message as `user`'s next GET shows it. */
  const listed = async (user: TestUser) => {
    const page = await user.api.get(`${chat}/messages`);
    return page.body.data.messages.find((m: { id: string }) => m.id === messageId);
  };
  const updated = (f: Frame) => f.type === 'chat:reactions_updated' && f.payload.messageId === messageId;
  return { groupId, chat, messageId, a, b, c, react, unreact, listed, updated };
}

const summary = (emoji: string, users: TestUser[], hasReacted: boolean) => ({
  emoji,
  count: users.length,
  users: users.map((u) => ({ userId: u.id, username: u.username })),
  hasReacted,
});

describe('adding and removing reactions', () => {
  it('reaches every member’s socket with their own hasReacted, and the next GET', async () => {
    const { groupId, messageId, a, b, c, react, listed, updated } = await room();

    const added = await react(bob, '👍');
    expect(added.status).toBe(200);
    expect(added.body.data.message).toMatchObject({ id: messageId, reactions: [summary('👍', [bob], true)] });
    for (const [socket, own] of [[a, false], [b, true], [c, false]] as const) {
      expect((await socket.next(updated)).payload).toEqual({ messageId, groupId, reactions: [summary('👍', [bob], own)] });
    }

    await react(carol, '👍');
    await react(alice, '🎉');
    for (const [socket, user] of [[a, alice], [b, bob], [c, carol]] as const) {
      await socket.next(updated);
      const { payload } = await socket.next(updated);
      const expected = [summary('👍', [bob, carol], user !== alice), summary('🎉', [alice], user === alice)];
      expect(payload.reactions).toEqual(expected);
      expect((await listed(user)).reactions).toEqual(expected);
    }
  });

  it('removes one’s own reaction, named by its URL-encoded emoji, skin tones and ZWJ sequences included', async () => {
    const { groupId, messageId, a, b, c, react, unreact, listed, updated } = await room();
    for (const emoji of ['👍🏽', '👨‍👩‍👧']) {
      expect((await react(bob, emoji)).status).toBe(200);
      await a.next(updated);
    }
    const removed = await unreact(bob, '👨‍👩‍👧');
    expect(removed.status).toBe(200);
    expect(removed.body.data.message.reactions).toEqual([summary('👍🏽', [bob], true)]);
    for (const socket of [a, b, c]) {
      const last = await socket.next((f) => updated(f) && f.payload.reactions.length === 1);
      expect(last.payload).toEqual({ messageId, groupId, reactions: [summary('👍🏽', [bob], socket === b)] });
    }
    await unreact(bob, '👍🏽');
    expect((await a.next((f) => updated(f) && f.payload.reactions.length === 0)).payload.reactions).toEqual([]);
    expect((await listed(carol)).reactions).toEqual([]);
  });

  it('changes nothing, and tells nobody, when the same reaction is added twice or an absent one removed', async () => {
    const { chat, a, react, unreact, updated } = await room();
    await react(bob, '🎉');
    await a.next(updated);
    const again = await react(bob, '🎉');
    expect(again.status).toBe(200);
    expect(again.body.data.message.reactions).toEqual([summary('🎉', [bob], true)]);
    expect((await unreact(carol, '🎉')).status).toBe(200);
    // A later change, to know that everything before it has been broadcast.
    const marker = await alice.api.post(`${chat}/messages`, { content: 'marker' });
    await a.next((f) => f.type === 'chat:message' && f.payload.message.id === marker.body.data.message.id);
    expect(a.frames.filter(updated)).toEqual([]);
  });
});

describe('what counts as an emoji', () => {
  it.each(['👍', '👍🏽', '👨‍👩‍👧', '🇫🇷', '1️⃣'])('accepts %s', async (emoji) => {
    const { react, listed } = await room();
    expect((await react(bob, emoji)).status).toBe(200);
    expect((await listed(bob)).reactions).toEqual([summary(emoji, [bob], true)]);
  });

  it.each(['a', '👍👍', '', ':)'])('answers VALIDATION_ERROR for %j', async (text) => {
    const { react } = await room();
    const answer = await react(bob, text);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_ERROR');
  });
});

describe('rules', () => {
  it('takes at most 50 different emoji on a message, with a clear error past that', async () => {
    const { react, listed } = await room();
    const emoji = Array.from({ length: 50 }, (_, i) => String.fromCodePoint(0x1f600 + i));
    const answers = await Promise.all(emoji.map((e, i) => react([alice, bob, carol][i % 3]!, e)));
    expect(answers.map((r) => r.status)).toEqual(emoji.map(() => 200));
    const refused = await react(bob, '🚀');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: [{ field: 'emoji', message: expect.stringContaining('50') }] } });
    expect((await react(bob, emoji[0]!)).status).toBe(200);
    expect((await listed(carol)).reactions).toHaveLength(50);
  });

  it('drops the reactions of a deleted message, and takes no new ones', async () => {
    const { chat, messageId, a, react, listed } = await room();
    await react(bob, '👍');
    await alice.api.delete(`${chat}/messages/${messageId}`);
    await a.nextOfType('chat:message_deleted');
    expect(await listed(bob)).toMatchObject({ isDeleted: true, reactions: [] });
    const refused = await react(bob, '👍');
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('NOT_FOUND');
  });

  it('is for members only, and for messages of the group', async () => {
    const { chat, react, unreact } = await room();
    expect((await react(eve, '👍')).body.error.code).toBe('FORBIDDEN');
    expect((await unreact(eve, '👍')).body.error.code).toBe('FORBIDDEN');
    const unknown = await bob.api.post(`${chat}/messages/00000000-0000-4000-8000-000000000000/reactions`, { emoji: '👍' });
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    expect((await bob.api.post(`${chat}/messages/not-an-id/reactions`, { emoji: '👍' })).body.error.code).toBe('VALIDATION_ERROR');
  });
});

describe('every message carries reactions and readBy', () => {
  it('a new message, over WebSocket and REST alike', async () => {
    const { groupId, chat, a, b } = await room();
    a.send({ type: 'chat:send_message', payload: { groupId, content: 'fresh' }, requestId: 'r1' });
    const ack = await a.nextOfType('chat:message_sent');
    expect(ack.payload.message).toMatchObject({ reactions: [], readBy: [] });
    expect((await b.next((f) => f.type === 'chat:message' && f.payload.message.id === ack.payload.message.id)).payload.message).toMatchObject({
      reactions: [],
      readBy: [],
    });
    const posted = await bob.api.post(`${chat}/messages`, { content: 'fresh too' });
    expect(posted.body.data.message).toMatchObject({ reactions: [], readBy: [] });
  });

  it('readBy lists who has read it, in every read', async () => {
    const { chat, messageId, listed } = await room();
    expect((await bob.api.post(`${chat}/messages/read`, { messageIds: [messageId] })).status).toBe(200);
    expect((await carol.api.post(`${chat}/messages/read`, { messageIds: [messageId] })).status).toBe(200);
    for (const user of [alice, bob, carol]) expect((await listed(user)).readBy).toEqual([bob.id, carol.id]);
  });
});
