/**
 * Threads as three members see them: replies reach every member's socket with a preview of their parent, the root
 * counts its live replies, and GET /messages/:id/thread pages the thread oldest first.
 */
import { describe, expect, it } from 'vitest';
import { useRooms } from '../support/chat-rooms.js';
import { groupWith, type Frame, type TestUser } from '../support/client.js';

let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let eve: TestUser;
const newRoom = useRooms((cast) => ({ alice, bob, carol, eve } = cast));

/** A fresh room, and what the tests below do in it. */
async function room() {
  const { groupId, chat, a, b, c } = await newRoom();
  const send = async (from: TestUser, content: string, parentMessageId?: string) => {
    const sent = await from.api.post(`${chat}/messages`, { content, ...(parentMessageId ? { parentMessageId } : {}) });
    expect(sent.status).toBe(201);
    return sent.body.data.message;
  };
  const thread = async (messageId: string, query = '') => {
    const answer = await carol.api.get(`${chat}/messages/${messageId}/thread${query}`);
    expect(answer.status).toBe(200);
    return answer.body.data;
  };
  const listed = async (messageId: string) => (await bob.api.get(`${chat}/messages`)).body.data.messages.find((m: any) => m.id === messageId);
  return { groupId, chat, a, b, c, send, thread, listed };
}

const messageFrame = (id: string) => (f: Frame) => f.type === 'chat:message' && f.payload.message.id === id;

describe('replying', () => {
  it('reaches every member’s socket with the parent’s preview, and counts the reply on the root', async () => {
    const { groupId, a, b, c, send, listed } = await room();
    const root = await send(alice, 'Where do we meet?');
    const reply = await send(bob, 'At the station', root.id);
    const preview = { messageId: root.id, senderUsername: alice.username, content: 'Where do we meet?' };
    expect(reply).toMatchObject({ parentMessageId: root.id, threadRootId: root.id, metadata: { replyPreview: preview } });
    for (const socket of [a, b, c]) expect((await socket.next(messageFrame(reply.id))).payload).toEqual({ groupId, message: reply });
    expect(await listed(root.id)).toMatchObject({ threadReplyCount: 1, parentMessageId: null, threadRootId: null });
    expect((await listed(root.id)).metadata).toEqual({});
    expect(await listed(reply.id)).toEqual(reply);
  });

  it('keeps a reply to a reply in the root’s thread, quoting its own parent', async () => {
    const { send, thread, listed } = await room();
    const root = await send(alice, 'root');
    const first = await send(bob, 'first', root.id);
    const second = await send(carol, 'second', first.id);
    expect(second).toMatchObject({ parentMessageId: first.id, threadRootId: root.id, metadata: { replyPreview: { messageId: first.id, content: 'first' } } });
    expect((await listed(root.id)).threadReplyCount).toBe(2);
    const fromRoot = await thread(root.id);
    expect(fromRoot.messages.map((m: any) => m.content)).toEqual(['first', 'second']);
    expect(await thread(second.id)).toEqual(fromRoot);
  });

  it('over WebSocket too', async () => {
    const { groupId, a, b, send } = await room();
    const root = await send(alice, 'socket root');
    b.send({ type: 'chat:send_message', payload: { groupId, content: 'socket reply', parentMessageId: root.id }, requestId: 'r1' });
    const ack = await b.nextOfType('chat:message_sent');
    expect(ack.payload.message).toMatchObject({ threadRootId: root.id, metadata: { replyPreview: { messageId: root.id, content: 'socket root' } } });
    expect((await a.next(messageFrame(ack.payload.message.id))).payload.message).toEqual(ack.payload.message);
  });

  it('answers NOT_FOUND for a parent that is unknown, deleted, or of another group', async () => {
    const { chat, send } = await room();
    const elsewhere = await alice.api.post(`/mirror/api/groups/${await groupWith(alice, [bob])}/chat/messages`, { content: 'elsewhere' });
    const deleted = await send(alice, 'soon gone');
    await alice.api.delete(`${chat}/messages/${deleted.id}`);
    for (const parentMessageId of ['00000000-0000-4000-8000-000000000000', deleted.id, elsewhere.body.data.message.id]) {
      const answer = await bob.api.post(`${chat}/messages`, { content: 'orphan', parentMessageId });
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe('NOT_FOUND');
    }
  });
});

describe('reply previews', () => {
  it('hold about 100 characters of the parent, never half an emoji', async () => {
    const { send } = await room();
    const root = await send(alice, `${'🎉'.repeat(99)}${'x'.repeat(200)}`);
    const reply = await send(bob, 'long indeed', root.id);
    expect(reply.metadata.replyPreview.content).toBe(`${'🎉'.repeat(99)}x…`);
  });

  it('follow the parent: an edit shows its new text, a deletion leaves nothing of the old', async () => {
    const { chat, send, thread } = await room();
    const root = await send(alice, 'first draft');
    await send(bob, 'reply', root.id);
    await alice.api.put(`${chat}/messages/${root.id}`, { content: 'second draft' });
    expect((await thread(root.id)).messages[0].metadata.replyPreview).toEqual({ messageId: root.id, senderUsername: alice.username, content: 'second draft' });
    await alice.api.delete(`${chat}/messages/${root.id}`);
    const afterDelete = await thread(root.id);
    expect(afterDelete.messages[0].metadata.replyPreview).toEqual({ messageId: root.id, senderUsername: alice.username, content: '' });
    expect(JSON.stringify(afterDelete)).not.toContain('draft');
  });
});

describe('the thread endpoint', () => {
  it('pages the replies oldest first, with GET /messages’s pagination', async () => {
    const { send, thread } = await room();
    const root = await send(alice, 'root');
    await send(alice, 'not in the thread');
    const replies = [];
    for (const n of [1, 2, 3, 4, 5]) replies.push(await send([bob, carol][n % 2]!, `reply ${n}`, root.id));
    const ids = replies.map((r) => r.id);

    const first = await thread(root.id, '?limit=2');
    expect(first).toEqual({ messages: replies.slice(0, 2), pagination: { hasMore: true, nextCursor: ids[1], prevCursor: ids[0] } });
    const second = await thread(root.id, `?limit=2&cursor=${first.pagination.nextCursor}`);
    expect(second.messages.map((m: any) => m.id)).toEqual(ids.slice(2, 4));
    const last = await thread(root.id, `?limit=2&cursor=${second.pagination.nextCursor}`);
    expect(last).toEqual({ messages: replies.slice(4), pagination: { hasMore: false, nextCursor: null, prevCursor: ids[4] } });
    expect((await thread(root.id)).messages.map((m: any) => m.id)).toEqual(ids);
  });

  it('answers an empty page for a message without replies', async () => {
    const { send, thread } = await room();
    const lonely = await send(alice, 'no one answers');
    expect(await thread(lonely.id)).toEqual({ messages: [], pagination: { hasMore: false, nextCursor: null, prevCursor: null } });
  });

  it('answers NOT_FOUND for an unknown message or a cursor outside the thread, FORBIDDEN for non-members, and checks its query', async () => {
    const { chat, send } = await room();
    const root = await send(alice, 'root');
    const outside = await send(alice, 'outside');
    await send(bob, 'reply', root.id);
    const get = (user: TestUser, path: string) => user.api.get(`${chat}/messages/${path}`);
    expect((await get(bob, '00000000-0000-4000-8000-000000000000/thread')).body.error.code).toBe('NOT_FOUND');
    expect((await get(bob, `${root.id}/thread?cursor=${outside.id}`)).body.error.code).toBe('NOT_FOUND');
    expect((await get(eve, `${root.id}/thread`)).body.error.code).toBe('FORBIDDEN');
    for (const query of ['limit=0', 'limit=101', 'cursor=nope', 'sort=new']) {
      expect((await get(bob, `${root.id}/thread?${query}`)).body.error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('counts only the replies people can still read: deleting one counts it out, once', async () => {
    const { chat, a, send, thread, listed } = await room();
    const root = await send(alice, 'root');
    const [r1, r2] = [await send(bob, 'one', root.id), await send(carol, 'two', root.id)];
    expect((await listed(root.id)).threadReplyCount).toBe(2);
    await bob.api.delete(`${chat}/messages/${r1.id}`);
    await alice.api.delete(`${chat}/messages/${r1.id}`);
    await a.next((f) => f.type === 'chat:message_deleted' && f.payload.messageId === r1.id);
    expect((await listed(root.id)).threadReplyCount).toBe(1);
    // The deleted reply stays in its place as GET /messages shows it: a tombstone without text or preview.
    const page = await thread(root.id);
    expect(page.messages.map((m: any) => [m.id, m.isDeleted, m.content, m.metadata])).toEqual([
      [r1.id, true, '', {}],
      [r2.id, false, 'two', { replyPreview: { messageId: root.id, senderUsername: alice.username, content: 'root' } }],
    ]);
  });
});
