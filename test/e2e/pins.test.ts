/**
 * Pins as three members see them: pinning, re-pinning, unpinning and deleting reach every member's socket, and the
 * next GET /pinned and GET /messages show the pin's note, time and author.
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
  const send = async (content: string) => (await alice.api.post(`${chat}/messages`, { content })).body.data.message.id as string;
  const pin = (user: TestUser, messageId: string, body: unknown = {}) => user.api.post(`${chat}/messages/${messageId}/pin`, body);
  const unpin = (user: TestUser, messageId: string) => user.api.delete(`${chat}/messages/${messageId}/pin`);
  const pinned = async (user: TestUser = alice) => {
    const answer = await user.api.get(`${chat}/pinned`);
    expect(answer.status).toBe(200);
    return answer.body.data.messages as any[];
  };
  const listed = async (messageId: string) => (await bob.api.get(`${chat}/messages`)).body.data.messages.find((m: any) => m.id === messageId);
  return { groupId, chat, a, b, c, send, pin, unpin, pinned, listed };
}

const ofType = (type: string, messageId: string) => (f: Frame) => f.type === type && f.payload.messageId === messageId;

describe('pinning', () => {
  it('reaches every member’s socket, and shows in GET /pinned and GET /messages', async () => {
    const { groupId, a, b, c, send, pin, pinned, listed } = await room();
    const messageId = await send('the plan');
    const answer = await pin(bob, messageId, { note: 'read this first' });
    expect(answer.status).toBe(200);
    const pinFields = { pinNote: 'read this first', pinnedAt: expect.any(String), pinnedBy: bob.id };
    expect(answer.body.data.message).toMatchObject({ id: messageId, content: 'the plan', metadata: pinFields });

    for (const socket of [a, b, c]) {
      const frame = await socket.next(ofType('chat:message_pinned', messageId));
      expect(frame.payload).toEqual({
        messageId,
        groupId,
        pinnedBy: bob.id,
        pinnedAt: answer.body.data.message.metadata.pinnedAt,
        pinNote: 'read this first',
        message: answer.body.data.message,
      });
    }
    expect(await pinned(carol)).toEqual([answer.body.data.message]);
    expect(await listed(messageId)).toEqual(answer.body.data.message);
  });

  it('lists the newest pin first; pinning again moves it to the top with its new note', async () => {
    const { a, send, pin, pinned } = await room();
    const [m1, m2, m3] = [await send('one'), await send('two'), await send('three')];
    for (const id of [m1, m2, m3]) await pin(alice, id);
    expect((await pinned()).map((m) => m.content)).toEqual(['three', 'two', 'one']);
    expect((await pinned())[0].metadata).toMatchObject({ pinNote: null, pinnedBy: alice.id });

    await pin(carol, m1, { note: 'still relevant' });
    const again = await a.next((f) => ofType('chat:message_pinned', m1)(f) && f.payload.pinnedBy === carol.id);
    expect(again.payload).toMatchObject({ pinNote: 'still relevant', pinnedBy: carol.id });
    const list = await pinned(bob);
    expect(list.map((m) => m.content)).toEqual(['one', 'three', 'two']);
    expect(list[0].metadata).toMatchObject({ pinNote: 'still relevant', pinnedBy: carol.id });
  });

  it('takes a note of up to 500 characters, and treats a blank note as none', async () => {
    const { send, pin } = await room();
    const messageId = await send('noted');
    const tooLong = await pin(bob, messageId, { note: 'x'.repeat(501) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: [{ field: 'note', message: expect.stringContaining('500') }] } });
    expect((await pin(bob, messageId, { note: '✓'.repeat(500) })).body.data.message.metadata.pinNote).toBe('✓'.repeat(500));
    expect((await pin(bob, messageId, { note: '   ' })).body.data.message.metadata.pinNote).toBeNull();
  });

  it(`keeps at most 50 pins per group, with a clear error past that`, async () => {
    const { send, pin, unpin, pinned } = await room();
    const ids = await Promise.all(Array.from({ length: 51 }, (_, i) => send(`m${i}`)));
    const answers = await Promise.all(ids.slice(0, 50).map((id) => pin(alice, id)));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    const refused = await pin(alice, ids[50]!);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_ERROR');
    expect(refused.body.error.details.fields[0].message).toContain('50');
    expect(await pinned()).toHaveLength(50);
    await unpin(alice, ids[0]!);
    expect((await pin(alice, ids[50]!)).status).toBe(200);
  });
});

describe('unpinning', () => {
  it('reaches every member’s socket, and leaves GET /pinned and the message’s metadata', async () => {
    const { groupId, a, b, c, send, pin, unpin, pinned, listed } = await room();
    const messageId = await send('briefly pinned');
    await pin(alice, messageId, { note: 'for now' });
    const answer = await unpin(carol, messageId);
    expect(answer.status).toBe(200);
    expect(answer.body.data.message.metadata).toEqual({});
    for (const socket of [a, b, c]) {
      expect((await socket.next(ofType('chat:message_unpinned', messageId))).payload).toEqual({ messageId, groupId, unpinnedBy: carol.id });
    }
    expect(await pinned()).toEqual([]);
    expect((await listed(messageId)).metadata).toEqual({});
    expect((await unpin(carol, messageId)).status).toBe(200);
  });

  it('happens when a pinned message is deleted, after the deletion is told', async () => {
    const { groupId, chat, a, b, c, send, pin, pinned } = await room();
    const messageId = await send('pinned, then deleted');
    await pin(bob, messageId, { note: 'gone soon' });
    await alice.api.delete(`${chat}/messages/${messageId}`);
    for (const socket of [a, b, c]) {
      const unpinned = await socket.next(ofType('chat:message_unpinned', messageId));
      expect(unpinned.payload).toEqual({ messageId, groupId, unpinnedBy: alice.id });
      expect(socket.frames.some(ofType('chat:message_deleted', messageId)), 'deleted came first').toBe(true);
    }
    expect(await pinned()).toEqual([]);
    expect((await pin(bob, messageId)).body.error.code).toBe('NOT_FOUND');
  });
});

describe('rules', () => {
  it('are for members only, and for messages of the group', async () => {
    const { chat, send, pin, unpin } = await room();
    const messageId = await send('members only');
    expect((await pin(eve, messageId)).body.error.code).toBe('FORBIDDEN');
    expect((await unpin(eve, messageId)).body.error.code).toBe('FORBIDDEN');
    expect((await eve.api.get(`${chat}/pinned`)).body.error.code).toBe('FORBIDDEN');
    expect((await pin(bob, '00000000-0000-4000-8000-000000000000')).body.error.code).toBe('NOT_FOUND');
  });

  it('personalise hasReacted in the pinned message of chat:message_pinned', async () => {
    const { chat, a, b, send, pin } = await room();
    const messageId = await send('liked and pinned');
    await bob.api.post(`${chat}/messages/${messageId}/reactions`, { emoji: '👍' });
    await pin(alice, messageId);
    expect((await b.next(ofType('chat:message_pinned', messageId))).payload.message.reactions[0].hasReacted).toBe(true);
    expect((await a.next(ofType('chat:message_pinned', messageId))).payload.message.reactions[0].hasReacted).toBe(false);
  });
});
