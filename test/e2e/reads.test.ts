/**
 * Read receipts and unread counts as three members see them: REST and WebSocket marks, `chat:message_read` on every
 * member's socket, and the counts of the next GET.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useRooms } from '../support/chat-rooms.js';
import { groupWith, registerUser, type Frame, type TestUser } from '../support/client.js';

let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
const newRoom = useRooms((cast) => ({ alice, bob, carol } = cast));

/** A fresh group of the three, each with a socket that joined it, and what the tests below do in it. */
async function room() {
  const { groupId, chat, a, b, c } = await newRoom();
  const send = async (from: TestUser, content: string) => {
    const sent = await from.api.post(`${chat}/messages`, { content });
    expect(sent.status).toBe(201);
    return sent.body.data.message.id as string;
  };
  const unread = async (user: TestUser) => {
    const answer = await user.api.get(`${chat}/unread-count`);
    expect(answer.status).toBe(200);
    return answer.body.data.count as number;
  };
  const listed = async (user: TestUser) => {
    const answer = await user.api.get('/mirror/api/groups');
    return answer.body.data.groups.find((g: { id: string }) => g.id === groupId);
  };
  return { groupId, chat, a, b, c, send, unread, listed };
}

const readFrame = (f: Frame) => f.type === 'chat:message_read';

describe('marking read over REST', () => {
  it('tells every member’s socket, and the next GETs count it', async () => {
    const { groupId, chat, a, b, c, send, unread, listed } = await room();
    const [m1, m2, m3] = [await send(alice, 'one'), await send(alice, 'two'), await send(carol, 'three')];
    expect([await unread(alice), await unread(bob), await unread(carol)]).toEqual([1, 3, 2]);

    const marked = await bob.api.post(`${chat}/messages/read`, { messageIds: [m1, m2] });
    expect([marked.status, marked.body]).toEqual([200, { success: true, data: { unreadCount: 1, unreadMentionCount: 0 } }]);
    for (const socket of [a, b, c]) {
      const frame = await socket.next(readFrame);
      expect(frame.payload).toEqual({ messageIds: [m1, m2], groupId, userId: bob.id, readAt: expect.any(String) });
      expect(Date.parse(frame.payload.readAt)).not.toBeNaN();
    }
    expect(await unread(bob)).toBe(1);
    expect(await listed(bob)).toMatchObject({ unreadCount: 1, unreadMentionCount: 0 });
    const page = await carol.api.get(`${chat}/messages`);
    const readBy = Object.fromEntries(page.body.data.messages.map((m: { id: string; readBy: number[] }) => [m.id, m.readBy]));
    expect(readBy).toEqual({ [m1]: [bob.id], [m2]: [bob.id], [m3]: [] });
  });

  it('changes nothing and tells no one when the messages were read already', async () => {
    const { chat, a, send, unread } = await room();
    const [m1, m2] = [await send(alice, 'one'), await send(alice, 'two')];
    await bob.api.post(`${chat}/messages/read`, { messageIds: [m1] });
    expect((await a.next(readFrame)).payload.messageIds).toEqual([m1]);

    const again = await bob.api.post(`${chat}/messages/read`, { messageIds: [m1, m2] });
    expect(again.body.data.unreadCount).toBe(0);
    expect((await a.next(readFrame)).payload.messageIds).toEqual([m2]);
    await bob.api.post(`${chat}/messages/read`, { messageIds: [m1, m2] });
    // A message sent afterwards arrives after any read frame the repeat could have caused.
    const marker = await send(alice, 'marker');
    await a.next((f) => f.type === 'chat:message' && f.payload.message.id === marker);
    expect(a.frames.filter(readFrame)).toEqual([]);
    expect(await unread(bob)).toBe(1);
  });

  it('refuses more than 100 ids, ids of another group, and outsiders', async () => {
    const { chat, send } = await room();
    const mine = await send(alice, 'here');
    const elsewhere = await groupWith(alice, [bob]);
    const foreign = (await alice.api.post(`/mirror/api/groups/${elsewhere}/chat/messages`, { content: 'there' })).body.data.message.id;

    const tooMany = await bob.api.post(`${chat}/messages/read`, { messageIds: Array.from({ length: 101 }, () => randomUUID()) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe('VALIDATION_ERROR');
    const hundred = await bob.api.post(`${chat}/messages/read`, { messageIds: [mine, ...Array.from({ length: 99 }, () => mine)] });
    expect(hundred.status).toBe(200);
    const mixed = await bob.api.post(`${chat}/messages/read`, { messageIds: [mine, foreign] });
    expect(mixed.status).toBe(400);
    expect(mixed.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: [{ field: 'messageIds', message: expect.stringContaining(foreign) }] } });
    expect((await bob.api.post(`${chat}/messages/read`, { messageIds: [] })).body.error.code).toBe('VALIDATION_ERROR');
    expect((await bob.api.post(`${chat}/messages/read`, { messageIds: ['not-an-id'] })).body.error.code).toBe('VALIDATION_ERROR');

    const outsider = await registerUser(alice.api.baseUrl, 'dave');
    expect((await outsider.api.post(`${chat}/messages/read`, { messageIds: [mine] })).status).toBe(403);
    expect((await outsider.api.get(`${chat}/unread-count`)).status).toBe(403);
    expect((await bob.api.get(`/mirror/api/groups/${randomUUID()}/chat/unread-count`)).status).toBe(404);
  });
});

describe('marking read over the WebSocket', () => {
  it('answers nothing on success, tells every member, and the next GET counts it', async () => {
    const { groupId, a, b, c, send, unread } = await room();
    const [m1, m2] = [await send(alice, 'one'), await send(bob, 'two')];
    c.send({ type: 'chat:mark_read', payload: { groupId, messageIds: [m1, m2] }, requestId: 'read-1' });
    await c.settle();
    expect(c.frames.filter((f) => f.requestId === 'read-1')).toEqual([]);
    expect(await unread(carol)).toBe(0);
    for (const socket of [a, b, c]) expect((await socket.next(readFrame)).payload).toMatchObject({ messageIds: [m1, m2], userId: carol.id });
  });

  it('answers a refused mark with an error carrying the requestId', async () => {
    const { groupId, c, send } = await room();
    const mine = await send(alice, 'one');
    c.send({ type: 'chat:mark_read', payload: { groupId, messageIds: Array.from({ length: 101 }, () => mine) }, requestId: 'too-many' });
    expect((await c.nextOfType('error')).payload).toMatchObject({ code: 'VALIDATION_ERROR', requestId: 'too-many' });
    c.send({ type: 'chat:mark_read', payload: { groupId, messageIds: [randomUUID()] }, requestId: 'unknown' });
    expect((await c.nextOfType('error')).payload).toMatchObject({ code: 'VALIDATION_ERROR', requestId: 'unknown' });
    const other = await groupWith(alice);
    c.send({ type: 'chat:mark_read', payload: { groupId: other, messageIds: [mine] }, requestId: 'outsider' });
    expect((await c.nextOfType('error')).payload).toMatchObject({ code: 'FORBIDDEN', requestId: 'outsider' });
  });
});

describe('unread counts', () => {
  it('follow deletions, and a new member starts with every live message unread', async () => {
    const { chat, unread, send, listed } = await room();
    const [m1] = [await send(alice, 'one'), await send(bob, 'two'), await send(alice, 'three')];
    await carol.api.post(`${chat}/messages/read`, { messageIds: [m1] });
    await alice.api.delete(`${chat}/messages/${m1}`);
    expect([await unread(alice), await unread(bob), await unread(carol)]).toEqual([1, 1, 2]);

    const dave = await registerUser(alice.api.baseUrl, 'dave');
    await alice.api.post(`/mirror/api/groups/${(await listed(alice)).id}/members`, { userId: dave.id });
    expect(await unread(dave)).toBe(3 - 1);
    expect(await listed(dave)).toMatchObject({ unreadCount: 2, unreadMentionCount: 0 });
  });
});
