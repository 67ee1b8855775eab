/**
 * Issue 7, "Hostile input": nothing of one group — message, thread, reaction, pin, read, search hit, edit, delete,
 * unread count, broadcast — is reachable or changeable through another group's id. Group A is alice's (bob and dave
 * in it), group B is carol's (dave in it): carol is in B only, dave in both, so dave's probes show that the server
 * asks whether the message belongs to the group named, not only whether the caller belongs to some group.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useChatServer } from '../support/chat-server.js';
import { groupWith, type ChatSocket, type Frame, type TestUser } from '../support/client.js';
import { apiRoutes, queryOf, routePath } from '../support/routes.js';

let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let dave: TestUser;
let open: (user: TestUser) => Promise<ChatSocket>;
useChatServer(['alice', 'bob', 'carol', 'dave'], (file) => {
  [alice, bob, carol, dave] = file.users as [TestUser, TestUser, TestUser, TestUser];
  open = file.open;
});

const chatOf = (groupId: string) => `/mirror/api/groups/${groupId}/chat`;
/** A's messages: alice's root (reacted to, pinned, read by bob), bob's reply to it, dave's own. */
const a = { id: '', root: '', reply: '', davesOwn: '' };
const b = { id: '', message: '' };
/** alice's socket in A, carol's in B: what each group's members hear. */
let inA: ChatSocket;
let inB: ChatSocket;

beforeAll(async () => {
  a.id = await groupWith(alice, [bob, dave], 'A');
  b.id = await groupWith(carol, [dave], 'B');
  // Open before anything is sent, so that nothing waits to be delivered to them when they connect.
  [inA, inB] = await Promise.all([open(alice), open(carol)]);
  await inA.join(a.id);
  await inB.join(b.id);
  const send = async (user: TestUser, groupId: string, body: Record<string, unknown>) => {
    const answer = await user.api.post(`${chatOf(groupId)}/messages`, body);
    expect(answer.status).toBe(201);
    return answer.body.data.message.id as string;
  };
  a.root = await send(alice, a.id, { content: 'zebra crossing at noon' });
  a.reply = await send(bob, a.id, { content: 'zebra reply', parentMessageId: a.root });
  a.davesOwn = await send(dave, a.id, { content: 'dave wrote this in A' });
  b.message = await send(carol, b.id, { content: 'hello from B' });
  expect((await alice.api.post(`${chatOf(a.id)}/messages/${a.root}/reactions`, { emoji: '👍' })).status).toBe(200);
  expect((await alice.api.post(`${chatOf(a.id)}/messages/${a.root}/pin`, { note: 'A only' })).status).toBe(200);
  expect((await bob.api.post(`${chatOf(a.id)}/messages/read`, { messageIds: [a.root] })).status).toBe(200);
});

/** Everything A's members can read of A: it must be the same after every probe. */
async function viewOfA() {
  const chat = chatOf(a.id);
  const data = async (user: TestUser, path: string) => {
    const answer = await user.api.get(`${chat}${path}`);
    expect(answer.status, path).toBe(200);
    return answer.body.data;
  };
  return {
    messages: await data(alice, '/messages?limit=100'),
    thread: await data(bob, `/messages/${a.root}/thread`),
    pinned: await data(alice, '/pinned'),
    search: await data(alice, '/search?q=zebra'),
    unread: [await data(alice, '/unread-count'), await data(bob, '/unread-count'), await data(dave, '/unread-count')],
    preferences: await data(dave, '/preferences'),
    group: (await alice.api.get(`/mirror/api/groups/${a.id}`)).body.data,
  };
}

/** Frames about a group's content, leaving out presence, which connecting sockets change on their own. */
const contentFrames = (socket: ChatSocket) => socket.frames.filter((f: Frame) => f.type !== 'chat:presence' && f.type !== 'pong');

/** The answers to frames the test sent (those with a requestId), pongs aside. */
const answers = (socket: ChatSocket) => socket.frames.filter((f) => f.requestId && f.type !== 'pong').map((f) => [f.requestId, f.type, f.payload.code]);

/** What `socket` hears from now on; a ping's answer comes after every broadcast sent before it. */
async function listenTo(socket: ChatSocket): Promise<() => Promise<Frame[]>> {
  await socket.settle();
  socket.frames.length = 0;
  return async () => {
    await socket.settle();
    return contentFrames(socket);
  };
}

describe('a member of B only', () => {
  it('is FORBIDDEN on every route of A, and changes nothing there', async () => {
    const before = await viewOfA();
    const heardInA = await listenTo(inA);
    const routes = apiRoutes({ rootMessageId: a.root, replyId: a.reply, other: carol }).filter((r) => r.path.includes(':groupId'));
    const answers: string[] = [];
    for (const route of routes) {
      const params = { groupId: a.id, messageId: a.root, userId: bob.id, emoji: '👍' };
      const answer = await carol.api.call(route.method, `${routePath(route, params)}${queryOf(route.query)}`, route.body);
      answers.push(`${route.method} ${route.path} → ${answer.status} ${answer.body.error?.code}`);
    }
    expect(answers).toEqual(routes.map((r) => `${r.method} ${r.path} → 403 FORBIDDEN`));
    expect(await viewOfA()).toEqual(before);
    expect(await heardInA()).toEqual([]);
  });

  it("is refused A's frames over the WebSocket, and hears nothing of A", async () => {
    const heardInB = await listenTo(inB);
    const socket = await open(carol);
    const frames = [
      { type: 'chat:join_group', payload: { groupId: a.id }, requestId: 'join' },
      { type: 'chat:send_message', payload: { groupId: a.id, content: 'let me in' }, requestId: 'send' },
      { type: 'chat:mark_read', payload: { groupId: a.id, messageIds: [a.root] }, requestId: 'read' },
      { type: 'chat:typing_start', payload: { groupId: a.id }, requestId: 'typing' },
      { type: 'chat:presence_update', payload: { groupId: a.id, status: 'busy' }, requestId: 'presence' },
    ];
    for (const frame of frames) socket.send(frame);
    await socket.settle();
    expect(answers(socket)).toEqual(frames.map((f) => [f.requestId, 'error', 'FORBIDDEN']));
    socket.frames.length = 0;

    // A's own traffic goes on: none of it reaches carol, though her socket tried to join A and is in B.
    const message = (await alice.api.post(`${chatOf(a.id)}/messages`, { content: 'zebra, A only' })).body.data.message;
    await alice.api.post(`${chatOf(a.id)}/typing/start`);
    await alice.api.post(`${chatOf(a.id)}/messages/${message.id}/reactions`, { emoji: '🎉' });
    await inA.next((f) => f.type === 'chat:reactions_updated' && f.payload.messageId === message.id);
    await socket.settle();
    expect(contentFrames(socket)).toEqual([]);
    expect(await heardInB()).toEqual([]);
  });

  it('sees only B in its lists, its presence and its search', async () => {
    const groups = (await carol.api.get('/mirror/api/groups')).body.data.groups;
    expect(groups.map((g: { id: string }) => g.id)).toEqual([b.id]);
    const presence = (await carol.api.get(`${chatOf(b.id)}/presence`)).body.data.presence;
    expect(presence.map((p: { userId: number }) => p.userId).sort()).toEqual([carol.id, dave.id].sort());
    const search = (await carol.api.get(`${chatOf(b.id)}/search?q=zebra`)).body.data;
    expect(search.results).toEqual([]);
    const messages = (await carol.api.get(`${chatOf(b.id)}/messages`)).body.data.messages;
    expect(messages.map((m: { id: string }) => m.id)).toEqual([b.message]);
  });
});

describe("a member of both, naming A's messages through B", () => {
  /** Every route about one message, with B's id and a message of A: dave's own, or alice's. */
  const messageRoutes = () =>
    apiRoutes({ rootMessageId: a.root, replyId: a.reply, other: carol }).filter((r) => r.path.includes(':messageId') && r.path.includes('/chat/'));

  it.each([
    ['his own message in A', () => a.davesOwn],
    ["alice's message in A", () => a.root],
  ])('gets NOT_FOUND on every message route of B for %s, and changes nothing in A', async (_, messageId) => {
    const before = await viewOfA();
    const heardInA = await listenTo(inA);
    const routes = messageRoutes();
    const answers: string[] = [];
    for (const route of routes) {
      const answer = await dave.api.call(route.method, routePath(route, { groupId: b.id, messageId: messageId(), emoji: '👍' }), route.body);
      answers.push(`${route.method} ${route.path} → ${answer.status} ${answer.body.error?.code}`);
    }
    expect(answers).toEqual(routes.map((r) => `${r.method} ${r.path} → 404 NOT_FOUND`));
    expect(await viewOfA()).toEqual(before);
    expect(await heardInA()).toEqual([]);
  });

  it("gets NOT_FOUND for A's ids as B's cursors and parents, and finds nothing of A in B", async () => {
    const before = await viewOfA();
    const chat = chatOf(b.id);
    const notFound = async (answer: Promise<{ status: number; body: any }>) => {
      const { status, body } = await answer;
      return `${status} ${body.error?.code}`;
    };
    expect(await notFound(dave.api.get(`${chat}/messages?cursor=${a.root}`))).toBe('404 NOT_FOUND');
    expect(await notFound(dave.api.get(`${chat}/messages/${b.message}/thread?cursor=${a.reply}`))).toBe('404 NOT_FOUND');
    expect(await notFound(dave.api.post(`${chat}/messages`, { content: 'a reply across groups', parentMessageId: a.root }))).toBe('404 NOT_FOUND');
    const search = (await dave.api.get(`${chat}/search?q=zebra`)).body.data;
    expect(search.results).toEqual([]);
    expect(await viewOfA()).toEqual(before);
  });

  it("is refused marking A's messages read through B: the ids are not B's, and A's counts stay", async () => {
    const before = await viewOfA();
    const answer = await dave.api.post(`${chatOf(b.id)}/messages/read`, { messageIds: [a.root, a.reply] });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: [{ field: 'messageIds' }] } });
    expect(await viewOfA()).toEqual(before);
  });

  it("is refused the same over the WebSocket, and A's members hear nothing", async () => {
    const before = await viewOfA();
    const heardInA = await listenTo(inA);
    const socket = await open(dave);
    await socket.join(b.id);
    socket.send({ type: 'chat:send_message', payload: { groupId: b.id, content: 'across', parentMessageId: a.root }, requestId: 'reply' });
    socket.send({ type: 'chat:mark_read', payload: { groupId: b.id, messageIds: [a.root] }, requestId: 'read' });
    await socket.settle();
    expect(answers(socket)).toEqual([
      ['reply', 'error', 'NOT_FOUND'],
      ['read', 'error', 'VALIDATION_ERROR'],
    ]);
    expect(await heardInA()).toEqual([]);
    expect(await viewOfA()).toEqual(before);
  });
});
