/**
 * Mentions as three members see them: checked on send, `chat:mention` on every socket of each member mentioned (joined
 * to the group or not), counts in the group list, and edits and deletions that move them.
 */
import { describe, expect, it } from 'vitest';
import { useChatServer, type ChatServerFile } from '../support/chat-server.js';
import { groupWith, registerUser, type Frame, type TestUser } from '../support/client.js';
import type { TestServer } from '../support/server.js';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let open: ChatServerFile['open'];
useChatServer(['alice', 'bob', 'carol'], (file) => {
  ({ server, open } = file);
  [alice, bob, carol] = file.users as [TestUser, TestUser, TestUser];
});

/** A fresh group of the three; alice's socket joined it, bob's and carol's are only connected. */
async function room() {
  const groupId = await groupWith(alice, [bob, carol]);
  const [a, b, c] = await Promise.all([alice, bob, carol].map(open));
  await a!.join(groupId);
  const chat = `/mirror/api/groups/${groupId}/chat`;
  const counts = async (user: TestUser) => {
    const { body } = await user.api.get('/mirror/api/groups');
    const group = body.data.groups.find((g: { id: string }) => g.id === groupId);
    return [group.unreadCount, group.unreadMentionCount];
  };
  const message = async (id: string) => {
    const { body } = await alice.api.get(`${chat}/messages`);
    return body.data.messages.find((m: { id: string }) => m.id === id);
  };
  /**
   * Waits until frames caused before now have all arrived: broadcasts leave in log order, so once alice's socket sees a
   * marker message deleted, all else is out. Sent and deleted, the marker leaves every count as it was.
   */
  const sync = async () => {
    const marker = (await alice.api.post(`${chat}/messages`, { content: 'sync' })).body.data.message.id;
    await alice.api.delete(`${chat}/messages/${marker}`);
    await a!.next((f) => f.type === 'chat:message_deleted' && f.payload.messageId === marker);
  };
  return { groupId, chat, a: a!, b: b!, c: c!, counts, message, sync };
}

const mentionOf = (user: TestUser, content: string, at = content.indexOf(`@${user.username}`)) => ({
  userId: user.id,
  username: user.username,
  startIndex: at,
  endIndex: at + user.username.length + 1,
  type: 'user',
});
const mentionFrame = (f: Frame) => f.type === 'chat:mention';

describe('mentioning on send', () => {
  it('tells the member mentioned on every socket, joined or not, and counts it for them alone', async () => {
    const { groupId, chat, a, b, c, counts, sync } = await room();
    const content = `👋 @${bob.username}, look`;
    const sent = await alice.api.post(`${chat}/messages`, { content, metadata: { mentions: [mentionOf(bob, content)] } });
    expect(sent.status).toBe(201);
    const { message } = sent.body.data;
    expect(message.metadata.mentions).toEqual([mentionOf(bob, content, 3)]);

    const frame = await b.next(mentionFrame);
    expect(frame.payload).toEqual({ message, groupId, mentionType: 'user' });
    await sync();
    expect([...a.frames, ...c.frames].filter(mentionFrame)).toEqual([]);
    expect(await counts(bob)).toEqual([1, 1]);
    expect(await counts(carol)).toEqual([1, 0]);
    expect(await counts(alice)).toEqual([0, 0]);
  });

  it('tells every member but the sender of an @everyone sent over the socket', async () => {
    const { groupId, a, b, c, counts, sync } = await room();
    a.send({ type: 'chat:send_message', payload: { groupId, content: '@everyone standup' }, requestId: 'all' });
    const ack = await a.nextOfType('chat:message_sent');
    expect(ack.payload.message.metadata.mentions).toEqual([{ userId: 0, username: 'everyone', startIndex: 0, endIndex: 9, type: 'everyone' }]);
    for (const socket of [b, c]) {
      expect((await socket.next(mentionFrame)).payload).toMatchObject({ groupId, mentionType: 'everyone', message: { id: ack.payload.message.id } });
    }
    await sync();
    expect(a.frames.filter(mentionFrame)).toEqual([]);
    expect([await counts(bob), await counts(carol)]).toEqual([
      [1, 1],
      [1, 1],
    ]);
  });

  it('finds the mentions in the text when the client marks none', async () => {
    const { chat, b, counts } = await room();
    const sent = await alice.api.post(`${chat}/messages`, { content: `hi @${bob.username}` });
    expect(sent.body.data.message.metadata.mentions).toEqual([mentionOf(bob, `hi @${bob.username}`)]);
    expect((await b.next(mentionFrame)).payload.mentionType).toBe('user');
    expect(await counts(bob)).toEqual([1, 1]);
  });

  it('refuses mentions that do not match the text or the members, listing each', async () => {
    const { chat } = await room();
    const outsider = await registerUser(server.url, 'dave');
    const content = `@${bob.username}x and @${outsider.username} and @${carol.username}`;
    const refused = await alice.api.post(`${chat}/messages`, {
      content,
      metadata: { mentions: [mentionOf(bob, content), mentionOf(outsider, content), mentionOf(carol, content)] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: {
        fields: [
          { field: 'metadata.mentions.0', message: expect.any(String) },
          { field: 'metadata.mentions.1', message: 'must name a member of this group' },
        ],
      },
    });
  });
});

describe('mentions and the life of a message', () => {
  it('follow an edit: the member edited out is uncounted, the one edited in is told and counted', async () => {
    const { groupId, chat, b, c, counts, message, sync } = await room();
    const content = `ping @${bob.username}`;
    const id = (await alice.api.post(`${chat}/messages`, { content })).body.data.message.id;
    await b.next(mentionFrame);
    expect(await counts(bob)).toEqual([1, 1]);

    const edited = await alice.api.put(`${chat}/messages/${id}`, { content: `ping @${carol.username}` });
    expect(edited.status).toBe(200);
    expect(edited.body.data.message.metadata.mentions).toEqual([mentionOf(carol, `ping @${carol.username}`)]);
    const told = await c.next(mentionFrame);
    expect(told.payload).toMatchObject({ groupId, mentionType: 'user', message: { id, content: `ping @${carol.username}`, isEdited: true } });
    expect(told.payload.message.metadata.mentions).toEqual(edited.body.data.message.metadata.mentions);
    await sync();
    expect(b.frames.filter(mentionFrame)).toEqual([]);
    expect(await counts(bob)).toEqual([1, 0]);
    expect(await counts(carol)).toEqual([1, 1]);
    expect((await message(id)).metadata.mentions).toEqual(edited.body.data.message.metadata.mentions);

    // Editing again without touching the mention tells no one anew.
    await alice.api.put(`${chat}/messages/${id}`, { content: `ping @${carol.username}!` });
    await sync();
    expect(c.frames.filter(mentionFrame)).toEqual([]);
    expect(await counts(carol)).toEqual([1, 1]);
  });

  it('stop counting once read or deleted', async () => {
    const { chat, counts } = await room();
    const [first, second] = await Promise.all(
      [`@${bob.username} one`, `@${bob.username} two`].map(async (content) => (await alice.api.post(`${chat}/messages`, { content })).body.data.message.id),
    );
    expect(await counts(bob)).toEqual([2, 2]);
    const read = await bob.api.post(`${chat}/messages/read`, { messageIds: [first] });
    expect(read.body.data).toEqual({ unreadCount: 1, unreadMentionCount: 1 });
    await alice.api.delete(`${chat}/messages/${second}`);
    expect(await counts(bob)).toEqual([0, 0]);
  });
});
