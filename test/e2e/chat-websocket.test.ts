import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatSocket, groupWith, registerUser, type TestUser } from '../support/client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let eve: TestUser;
let groupId: string;
const sockets: ChatSocket[] = [];
const connect = async (user: TestUser) => {
  const socket = await ChatSocket.open(server.wsUrl, user.token);
  sockets.push(socket);
  return socket;
};

beforeAll(async () => {
  server = await startTestServer();
  [alice, bob, eve] = await Promise.all([registerUser(server.url, 'alice'), registerUser(server.url, 'bob'), registerUser(server.url, 'eve')]);
  groupId = await groupWith(alice, [bob]);
});
afterAll(async () => {
  sockets.forEach((s) => s.close());
  await server?.stop();
});

describe('connecting', () => {
  it('closes with 4001 for a bad token', async () => {
    const socket = await ChatSocket.open(server.wsUrl, 'not-a-token');
    expect((await socket.waitClosed()).code).toBe(4001);
  });

  it('answers ping with pong and a timestamp', async () => {
    const socket = await connect(alice);
    socket.send({ type: 'ping' });
    const pong = await socket.nextOfType('pong');
    expect(typeof pong.payload.timestamp).toBe('number');
  });

  it('answers bad frames with error, and keeps the connection', async () => {
    const socket = await connect(alice);
    socket.send('this is not json');
    expect((await socket.nextOfType('error')).payload.code).toBe('VALIDATION_ERROR');
    socket.send({ type: 'chat:launch_rockets', payload: {} });
    expect((await socket.nextOfType('error')).payload.code).toBe('VALIDATION_ERROR');
    socket.send({ type: 'chat:send_message', payload: { groupId, content: '' }, requestId: 'r-bad' });
    const error = await socket.nextOfType('error');
    expect(error.payload).toMatchObject({ code: 'VALIDATION_ERROR', requestId: 'r-bad' });
    expect(error.requestId).toBe('r-bad');
    await socket.settle();
    expect(socket.closed).toBeUndefined();
  });

  it('refuses to join a group one is not a member of', async () => {
    const socket = await connect(eve);
    socket.send({ type: 'chat:join_group', payload: { groupId }, requestId: 'j1' });
    const error = await socket.nextOfType('error');
    expect(error.payload).toMatchObject({ code: 'FORBIDDEN', requestId: 'j1' });
  });
});

describe('messaging', () => {
  it('answers chat:send_message with chat:message_sent and broadcasts chat:message to members', async () => {
    const [a, b] = [await connect(alice), await connect(bob)];
    await a.join(groupId);
    await b.join(groupId);
    a.send({ type: 'chat:send_message', payload: { groupId, content: 'over the socket', clientMessageId: 'ws-1' }, requestId: 'req-1' });
    const ack = await a.nextOfType('chat:message_sent');
    expect(ack.requestId).toBe('req-1');
    expect(ack.payload).toMatchObject({ groupId, message: { content: 'over the socket', senderUserId: alice.id, clientMessageId: 'ws-1' } });
    const received = await b.nextOfType('chat:message');
    expect(received.payload).toEqual({ groupId, message: ack.payload.message });
  });

  it('broadcasts REST edits and deletes to the group', async () => {
    const b = await connect(bob);
    await b.join(groupId);
    const sent = await alice.api.post(`/mirror/api/groups/${groupId}/chat/messages`, { content: 'draft' });
    const id = sent.body.data.message.id;
    expect((await b.nextOfType('chat:message')).payload.message.id).toBe(id);

    await alice.api.put(`/mirror/api/groups/${groupId}/chat/messages/${id}`, { content: 'final' });
    const edited = await b.nextOfType('chat:message_edited');
    expect(edited.payload).toEqual({ messageId: id, groupId, content: 'final', editedAt: expect.any(String), editedBy: alice.id });

    await alice.api.delete(`/mirror/api/groups/${groupId}/chat/messages/${id}`);
    const deleted = await b.nextOfType('chat:message_deleted');
    expect(deleted.payload).toEqual({ messageId: id, groupId, deletedBy: alice.id });
  });

  it('delivers a group’s messages in the order they were stored', async () => {
    const b = await connect(bob);
    await b.join(groupId);
    const sent = await Promise.all(Array.from({ length: 10 }, (_, i) => alice.api.post(`/mirror/api/groups/${groupId}/chat/messages`, { content: `o${i}` })));
    const received = [];
    for (let i = 0; i < 10; i++) received.push((await b.nextOfType('chat:message')).payload.message.id);
    const listed = await bob.api.get(`/mirror/api/groups/${groupId}/chat/messages?limit=10`);
    expect(received).toEqual(listed.body.data.messages.map((m: any) => m.id));
    expect(new Set(received)).toEqual(new Set(sent.map((s) => s.body.data.message.id)));
  });

  it('stops sending to a socket that left the group', async () => {
    const b = await connect(bob);
    await b.join(groupId);
    b.send({ type: 'chat:leave_group', payload: { groupId } });
    await b.settle();
    await alice.api.post(`/mirror/api/groups/${groupId}/chat/messages`, { content: 'after leave' });
    const probe = await connect(alice);
    await probe.join(groupId);
    await alice.api.post(`/mirror/api/groups/${groupId}/chat/messages`, { content: 'marker' });
    await probe.next((f) => f.type === 'chat:message' && f.payload.message.content === 'marker');
    expect(b.frames.filter((f) => f.type === 'chat:message')).toEqual([]);
  });
});

describe('membership changes', () => {
  it('stops delivering to a removed member at once and tells them', async () => {
    const carol = await registerUser(server.url, 'carol');
    const group = await groupWith(alice, [carol]);
    const c = await connect(carol);
    await c.join(group);
    await alice.api.delete(`/mirror/api/groups/${group}/members/${carol.id}`);
    const notice = await c.nextOfType('error');
    expect(notice.payload).toMatchObject({ code: 'FORBIDDEN', groupId: group });
    await alice.api.post(`/mirror/api/groups/${group}/chat/messages`, { content: 'not for carol' });
    const watcher = await connect(alice);
    await watcher.join(group);
    await alice.api.post(`/mirror/api/groups/${group}/chat/messages`, { content: 'sync' });
    await watcher.next((f) => f.type === 'chat:message' && f.payload.message.content === 'sync');
    expect(c.frames.filter((f) => f.type === 'chat:message')).toEqual([]);
    c.send({ type: 'chat:send_message', payload: { groupId: group, content: 'let me back' }, requestId: 'x' });
    expect((await c.nextOfType('error')).payload.code).toBe('FORBIDDEN');
  });
});
