/**
 * Typing indicators as three members see them: REST and WebSocket start/stop, chat:typing to the other members only,
 * the server's own end of a typing state after the window, and the end that comes with a sent message. The window is
 * shortened to WINDOW_MS (the product's is the guide's 5 s).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatSocket, groupWith, registerUser, type Frame, type TestUser } from '../support/client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const WINDOW_MS = 500;

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let eve: TestUser;
const sockets: ChatSocket[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  server = await startTestServer({ typingMs: WINDOW_MS });
  [alice, bob, carol, eve] = await Promise.all([
    registerUser(server.url, 'alice'),
    registerUser(server.url, 'bob'),
    registerUser(server.url, 'carol'),
    registerUser(server.url, 'eve'),
  ]);
});
afterAll(async () => {
  sockets.forEach((s) => s.close());
  await server?.stop();
});

/** A fresh group of alice, bob and carol, each with a socket in it: typing states of other tests stay out. */
async function room() {
  const groupId = await groupWith(alice, [bob, carol]);
  const open = (user: TestUser) => ChatSocket.open(server.wsUrl, user.token);
  const [a, b, c] = await Promise.all([open(alice), open(bob), open(carol)]);
  sockets.push(a, b, c);
  await Promise.all([a, b, c].map((s) => s.join(groupId)));
  const typing = (user: TestUser, isTyping: boolean) => ({ groupId, userId: user.id, username: user.username, isTyping });
  const rest = (user: TestUser, action: 'start' | 'stop') => user.api.post(`/mirror/api/groups/${groupId}/chat/typing/${action}`);
  return { groupId, a, b, c, typing, rest };
}

const typingOf = (user: TestUser) => (f: Frame) => f.type === 'chat:typing' && f.payload.userId === user.id;
const heard = (socket: ChatSocket, user: TestUser) => socket.frames.filter(typingOf(user));

/**
 * Broadcasts reach a socket in the order they were published: once `socket` has carol's announcement of a new typing
 * state, any earlier one would be there too.
 */
async function marker(socket: ChatSocket, r: Awaited<ReturnType<typeof room>>) {
  await r.rest(carol, 'start');
  expect(await socket.next(typingOf(carol))).toMatchObject({ payload: r.typing(carol, true) });
}

describe('starting and stopping', () => {
  it('tells the other members over REST, and never the typist', async () => {
    const r = await room();
    const started = await r.rest(alice, 'start');
    expect(started).toMatchObject({ status: 200, body: { success: true, data: { groupId: r.groupId, isTyping: true } } });
    for (const s of [r.b, r.c]) expect((await s.next(typingOf(alice))).payload).toEqual(r.typing(alice, true));

    expect((await r.rest(alice, 'stop')).status).toBe(200);
    for (const s of [r.b, r.c]) expect((await s.next(typingOf(alice))).payload).toEqual(r.typing(alice, false));

    await marker(r.a, r);
    expect(heard(r.a, alice)).toEqual([]);
  });

  it('does the same over the WebSocket', async () => {
    const r = await room();
    r.b.send({ type: 'chat:typing_start', payload: { groupId: r.groupId } });
    expect((await r.a.next(typingOf(bob))).payload).toEqual(r.typing(bob, true));
    expect((await r.c.next(typingOf(bob))).payload).toEqual(r.typing(bob, true));
    r.b.send({ type: 'chat:typing_stop', payload: { groupId: r.groupId } });
    expect((await r.a.next(typingOf(bob))).payload).toEqual(r.typing(bob, false));
    expect((await r.c.next(typingOf(bob))).payload).toEqual(r.typing(bob, false));
    await r.b.settle();
    expect(r.b.frames.filter((f) => f.type === 'error')).toEqual([]);
    await marker(r.b, r);
    expect(heard(r.b, bob)).toEqual([]);
  });

  it('announces a stop only when the user was typing', async () => {
    const r = await room();
    expect((await r.rest(alice, 'stop')).status).toBe(200);
    r.a.send({ type: 'chat:typing_stop', payload: { groupId: r.groupId } });
    await r.a.settle();
    await marker(r.b, r);
    expect(heard(r.b, alice)).toEqual([]);
  });
});

describe('the window', () => {
  it('announces repeated starts once, and ends the state itself a window after the last start', async () => {
    const r = await room();
    await r.rest(alice, 'start');
    expect((await r.b.next(typingOf(alice))).payload).toEqual(r.typing(alice, true));
    await sleep(WINDOW_MS / 2);
    const lastStart = Date.now();
    r.a.send({ type: 'chat:typing_start', payload: { groupId: r.groupId } });
    r.a.send({ type: 'chat:typing_start', payload: { groupId: r.groupId } });

    const ended = await r.b.next(typingOf(alice), WINDOW_MS * 10);
    expect(ended.payload).toEqual(r.typing(alice, false));
    // The end counts from the last start, not the first: it cannot come sooner than a window after it was sent.
    expect(Date.now() - lastStart).toBeGreaterThanOrEqual(WINDOW_MS);
    expect((await r.c.next(typingOf(alice))).payload).toEqual(r.typing(alice, true));
    expect((await r.c.next(typingOf(alice), WINDOW_MS * 10)).payload).toEqual(r.typing(alice, false));

    await marker(r.b, r);
    expect(heard(r.b, alice)).toEqual([]);
  });

  it('starts a new typing state once the last one has ended', async () => {
    const r = await room();
    await r.rest(bob, 'start');
    expect((await r.a.next(typingOf(bob))).payload.isTyping).toBe(true);
    expect((await r.a.next(typingOf(bob), WINDOW_MS * 10)).payload.isTyping).toBe(false);
    await r.rest(bob, 'start');
    expect((await r.a.next(typingOf(bob))).payload).toEqual(r.typing(bob, true));
  });
});

describe('sending a message', () => {
  it('ends the sender’s typing state as the message lands', async () => {
    const r = await room();
    await r.rest(alice, 'start');
    expect((await r.b.next(typingOf(alice))).payload.isTyping).toBe(true);
    r.a.send({ type: 'chat:send_message', payload: { groupId: r.groupId, content: 'done typing' }, requestId: 'send-1' });
    await r.a.nextOfType('chat:message_sent');
    expect((await r.b.nextOfType('chat:message')).payload.message.content).toBe('done typing');
    expect((await r.b.next(typingOf(alice))).payload).toEqual(r.typing(alice, false));
  });
});

describe('who may type', () => {
  it('is members only, over REST and WebSocket', async () => {
    const r = await room();
    const refused = await eve.api.post(`/mirror/api/groups/${r.groupId}/chat/typing/start`);
    expect(refused).toMatchObject({ status: 403, body: { success: false, error: { code: 'FORBIDDEN' } } });
    const unknown = await eve.api.post(`/mirror/api/groups/${randomUUID()}/chat/typing/start`);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    const malformed = await eve.api.post('/mirror/api/groups/not-a-group/chat/typing/stop');
    expect(malformed.body.error.code).toBe('VALIDATION_ERROR');

    const e = await ChatSocket.open(server.wsUrl, eve.token);
    sockets.push(e);
    e.send({ type: 'chat:typing_start', payload: { groupId: r.groupId }, requestId: 't1' });
    expect((await e.nextOfType('error')).payload).toMatchObject({ code: 'FORBIDDEN', requestId: 't1' });

    await marker(r.a, r);
    expect(r.a.frames.filter((f) => f.type === 'chat:typing' && f.payload.userId === eve.id)).toEqual([]);
  });
});
