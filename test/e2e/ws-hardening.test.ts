/**
 * The WebSocket's edge, and the request shapes clients may not stretch: who may open the socket and how the token
 * travels (and never into the logs), what a frame may be, what happens to a member removed mid-connection, to a
 * reader that stops reading, to a token that expires, and to open sockets when the server is told to stop.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ChatSocket, RestClient, groupWith, registerUser, type TestUser } from '../support/client.js';
import { freshBackends, startTestServer, type TestBackends, type TestServer } from '../support/server.js';
import { spawnServer } from '../support/server-process.js';

const ALLOWED_ORIGIN = 'https://chat.example.test';
const MAX_BUFFERED_BYTES = 64 * 1024;

let backends: TestBackends;
let server: TestServer;
const sockets: ChatSocket[] = [];
const open = async (user: TestUser, options?: { protocol?: boolean; origin?: string }) => {
  const socket = await ChatSocket.open(server.wsUrl, user.token, options);
  sockets.push(socket);
  return socket;
};
const register = (name: string) => registerUser(server.url, name);
const messagesOf = async (user: TestUser, groupId: string) =>
  (await user.api.get(`/mirror/api/groups/${groupId}/chat/messages?limit=100`)).body.data.messages as Array<{ content: string }>;

beforeAll(async () => {
  backends = await freshBackends();
  // A secret of the test's own, so that it can sign a token that expires while the socket is open.
  backends.env.JWT_SECRET ??= randomBytes(32).toString('hex');
  Object.assign(backends.env, { CORS_ORIGINS: ALLOWED_ORIGIN, WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES) });
  server = await startTestServer({ backends });
});
afterAll(async () => {
  sockets.forEach((s) => s.close());
  await server?.stop();
  await backends?.drop();
});

describe('opening the socket', () => {
  it('lets in the allowed origin and clients that send none, and refuses any other origin at the upgrade with 403', async () => {
    const alice = await register('alice');
    await (await open(alice, { origin: ALLOWED_ORIGIN })).settle();
    await (await open(alice)).settle();

    const refused = new WebSocket(`${server.wsUrl}?token=${alice.token}`, { origin: 'https://elsewhere.example.test' });
    // Ending a handshake that never completed is reported as an error; that is the point here.
    refused.on('error', () => {});
    const [, response] = (await once(refused, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
    let body = '';
    for await (const chunk of response) body += chunk;
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(body)).toEqual({ success: false, error: { code: 'FORBIDDEN', message: expect.any(String) } });
    refused.terminate();
  });

  it('takes the token as the subprotocols bearer and <token>, and answers with bearer alone', async () => {
    const alice = await register('alice');
    const socket = await open(alice, { protocol: true });
    expect(socket.ws.protocol).toBe('bearer');
    await socket.settle();

    const forged = await ChatSocket.open(server.wsUrl, 'not-a-token', { protocol: true });
    expect((await forged.waitClosed()).code).toBe(4001);
  });

  it('writes no token to the logs, wherever it travelled', async () => {
    const alice = await register('alice');
    await (await open(alice)).settle();
    await (await open(alice, { protocol: true })).settle();
    expect((await alice.api.get('/mirror/api/groups')).status).toBe(200);

    const signature = alice.token.split('.')[2]!;
    expect(server.logs.filter((line) => line.includes(signature))).toEqual([]);
    // The upgrade request was logged, its query string (where the token was) cut off.
    expect(server.logs.some((line) => line.includes('"url":"/mirror/groups/chat"'))).toBe(true);
  });

  it('closes the socket with 4001 when its token expires', async () => {
    const alice = await register('alice');
    const exp = Math.floor(Date.now() / 1000) + 3;
    const token = await new SignJWT({ id: alice.id, username: alice.username, email: `${alice.username}@example.test`, sessionId: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer('mirror-chat')
      .setAudience('mirror-chat')
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(backends.env.JWT_SECRET));
    const socket = await ChatSocket.open(server.wsUrl, token);
    sockets.push(socket);
    await socket.settle();
    expect(await socket.waitClosed(10_000)).toEqual({ code: 4001, reason: 'Token expired' });
  });
});

describe('frames', () => {
  it('reads a frame up to 64 KiB and closes the socket with 1009 on a larger one', async () => {
    const alice = await register('alice');
    const socket = await open(alice);
    socket.send({ type: 'ping', payload: { padding: 'x'.repeat(60 * 1024) }, requestId: 'big' });
    expect((await socket.nextOfType('pong')).requestId).toBe('big');
    socket.send({ type: 'ping', payload: { padding: 'x'.repeat(64 * 1024) } });
    expect((await socket.waitClosed()).code).toBe(1009);
  });

  it('refuses fields a client may not set, in REST bodies and in frames, and stores nothing', async () => {
    const [alice, bob] = [await register('alice'), await register('bob')];
    const groupId = await groupWith(alice, [bob]);
    const base = `/mirror/api/groups/${groupId}/chat`;
    const sent = await alice.api.post(`${base}/messages`, { content: 'the only message' });
    const messageId = sent.body.data.message.id;

    const refusals: Array<[string, Promise<{ status: number; body: any }>]> = [
      ['senderUserId', alice.api.post(`${base}/messages`, { content: 'as bob', senderUserId: bob.id })],
      ['senderId', alice.api.post(`${base}/messages`, { content: 'as bob', senderId: bob.id })],
      ['groupId', alice.api.post(`${base}/messages`, { content: 'elsewhere', groupId: randomUUID() })],
      ['createdAt', alice.api.post(`${base}/messages`, { content: 'backdated', createdAt: '2001-01-01T00:00:00Z' })],
      ['id', alice.api.post(`${base}/messages`, { content: 'chosen id', id: randomUUID() })],
      ['editedAt', alice.api.put(`${base}/messages/${messageId}`, { content: 'edited', editedAt: '2001-01-01T00:00:00Z' })],
      ['userId', alice.api.post(`${base}/messages/${messageId}/reactions`, { emoji: '👍', userId: bob.id })],
      ['userId', bob.api.post(`${base}/messages/read`, { messageIds: [messageId], userId: alice.id })],
      ['userId', alice.api.put(`${base}/presence`, { status: 'away', userId: bob.id })],
      ['pinnedBy', alice.api.post(`${base}/messages/${messageId}/pin`, { pinnedBy: bob.id })],
    ];
    for (const [field, answer] of refusals) {
      const { status, body } = await answer;
      expect(status).toBe(400);
      expect(body.error.code).toBe('VALIDATION_ERROR');
      expect(JSON.stringify(body.error.details.fields)).toContain(field);
    }

    const socket = await open(alice);
    const frames = [
      { type: 'chat:send_message', payload: { groupId, content: 'as bob', senderUserId: bob.id }, requestId: 'sender' },
      { type: 'chat:send_message', payload: { groupId, content: 'backdated', createdAt: '2001-01-01T00:00:00Z' }, requestId: 'created' },
      { type: 'chat:mark_read', payload: { groupId, messageIds: [messageId], userId: bob.id }, requestId: 'reader' },
      { type: 'chat:send_message', payload: { groupId, content: 'top level' }, requestId: 'top', userId: bob.id },
    ];
    for (const frame of frames) {
      socket.send(frame);
      const error = await socket.next((f) => f.requestId === frame.requestId);
      expect(error.type).toBe('error');
      expect(error.payload.code).toBe('VALIDATION_ERROR');
    }
    expect((await messagesOf(alice, groupId)).map((m) => m.content)).toEqual(['the only message']);
    const [message] = (await messagesOf(alice, groupId)) as any[];
    expect(message).toMatchObject({ reactions: [], isEdited: false });
    expect(message.metadata.pinnedAt ?? null).toBeNull();
  });

  it('refuses every group frame of a member removed mid-connection', async () => {
    const [alice, bob] = [await register('alice'), await register('bob')];
    const groupId = await groupWith(alice, [bob]);
    const sent = await alice.api.post(`/mirror/api/groups/${groupId}/chat/messages`, { content: 'before the removal' });
    const socket = await open(bob);
    await socket.join(groupId);

    expect((await alice.api.delete(`/mirror/api/groups/${groupId}/members/${bob.id}`)).status).toBe(200);
    expect((await socket.nextOfType('error')).payload).toMatchObject({ code: 'FORBIDDEN', groupId });

    const frames = [
      { type: 'chat:send_message', payload: { groupId, content: 'still here?' }, requestId: 'send' },
      { type: 'chat:typing_start', payload: { groupId }, requestId: 'typing' },
      { type: 'chat:presence_update', payload: { groupId, status: 'away' }, requestId: 'presence' },
      { type: 'chat:mark_read', payload: { groupId, messageIds: [sent.body.data.message.id] }, requestId: 'read' },
      { type: 'chat:join_group', payload: { groupId }, requestId: 'join' },
    ];
    for (const frame of frames) socket.send(frame);
    for (const frame of frames) {
      const answer = await socket.next((f) => f.requestId === frame.requestId);
      expect(answer).toMatchObject({ type: 'error', payload: { code: 'FORBIDDEN' } });
    }
    expect((await messagesOf(alice, groupId)).map((m) => m.content)).toEqual(['before the removal']);
    expect(socket.closed).toBeUndefined();
  });
});

describe('a reader that stops reading', () => {
  it('has its socket closed with 4008 once its backlog passes the bound, while the others get everything', async () => {
    const [alice, bob, carol] = [await register('alice'), await register('bob'), await register('carol')];
    // Groups of their own streams, so that sends to them go in parallel.
    const groupIds = await Promise.all(Array.from({ length: 4 }, () => groupWith(alice, [bob, carol])));
    const slow = await open(bob);
    const reader = await open(carol);
    for (const groupId of groupIds) {
      await slow.join(groupId);
      await reader.join(groupId);
    }
    slow.ws.pause();

    // 25 KB a message, of what costs the server least to store. The kernel's socket buffers take in some megabytes
    // before the server's own backlog grows, so the test sends until the server says it dropped the socket (or
    // far more than any buffer holds).
    const message = { content: 'x'.repeat(10_000), metadata: { custom: { padding: 'x'.repeat(15_000) } } };
    const dropped = () => server.logs.some((line) => line.includes('websocket reader too slow'));
    let sent = 0;
    while (!dropped() && sent < 2000) {
      const answers = await Promise.all(groupIds.map((groupId) => alice.api.post(`/mirror/api/groups/${groupId}/chat/messages`, message)));
      for (const answer of answers) expect(answer.status).toBe(201);
      sent += answers.length;
    }
    expect(dropped()).toBe(true);

    slow.ws.resume();
    expect((await slow.waitClosed(10_000)).code).toBe(4008);
    expect(slow.frames.filter((f) => f.type === 'chat:message').length).toBeLessThan(sent);
    for (let i = 0; i < sent; i++) await reader.nextOfType('chat:message', 10_000);
    expect(reader.closed).toBeUndefined();
  }, 180_000);
});

describe('shutting down', () => {
  it('on SIGTERM finishes the frames it received, refuses new sockets, closes the open ones with 1001, and loses nothing', async () => {
    const own = await freshBackends();
    try {
      const child = await spawnServer(own.env, 90_000);
      const [alice, bob] = [await registerUser(child.url, 'alice'), await registerUser(child.url, 'bob')];
      const groupId = await groupWith(alice, [bob]);
      const [sender, listener] = [await ChatSocket.open(child.wsUrl, alice.token), await ChatSocket.open(child.wsUrl, bob.token)];
      await sender.join(groupId);
      await listener.join(groupId);

      const ids = ['d1', 'd2', 'd3', 'd4', 'd5'];
      for (const requestId of ids) sender.send({ type: 'chat:send_message', payload: { groupId, content: `in flight ${requestId}` }, requestId });
      // The first answer comes after every frame has arrived: the others are in flight when the signal comes.
      await sender.next((f) => f.requestId === 'd1');
      const exited = once(child.child, 'exit');
      child.child.kill('SIGTERM');

      for (const requestId of ids.slice(1)) expect((await sender.next((f) => f.requestId === requestId, 10_000)).type).toBe('chat:message_sent');
      const deadline = Date.now() + 10_000;
      while (!child.logs.some((line) => line.includes('shutting down')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await expect(ChatSocket.open(child.wsUrl, alice.token)).rejects.toThrow();
      expect(await sender.waitClosed(10_000)).toEqual({ code: 1001, reason: 'Server shutting down' });
      expect((await listener.waitClosed(10_000)).code).toBe(1001);
      // The server's own log says why, should it not exit cleanly.
      expect(await exited, child.logs.slice(-20).join('\n')).toEqual([0, null]);

      const restarted = await startTestServer({ backends: own });
      try {
        const listed = await new RestClient(restarted.url, alice.token).get(`/mirror/api/groups/${groupId}/chat/messages`);
        expect(listed.body.data.messages.map((m: { content: string }) => m.content)).toEqual(ids.map((id) => `in flight ${id}`));
      } finally {
        await restarted.stop();
      }
    } finally {
      await own.drop();
    }
  }, 180_000);
});
