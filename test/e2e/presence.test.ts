/**
 * Presence as members see it: online with the first connection, offline a grace after the last one closes (shortened
 * to GRACE_MS here; the product's is 10 s), the status a user chooses over REST or WebSocket, chat:presence in every
 * group the user shares, and GET /presence for every member. Presence belongs to a user, so each test has users of
 * its own.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatSocket, RestClient, groupWith, registerUser, type Frame, type TestUser } from '../support/client.js';
import { freshBackends, startTestServer, type TestBackends, type TestServer } from '../support/server.js';

const GRACE_MS = 300;

let backends: TestBackends;
let server: TestServer;
const sockets: ChatSocket[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  backends = await freshBackends();
  server = await startTestServer({ backends, presenceGraceMs: GRACE_MS });
});
afterAll(async () => {
  sockets.forEach((s) => s.close());
  await server?.stop();
  await backends?.drop();
});

async function open(user: TestUser, ...groupIds: string[]): Promise<ChatSocket> {
  const socket = await ChatSocket.open(server.wsUrl, user.token);
  sockets.push(socket);
  for (const groupId of groupIds) await socket.join(groupId);
  return socket;
}

async function team() {
  const [alice, bob, carol] = await Promise.all([registerUser(server.url, 'alice'), registerUser(server.url, 'bob'), registerUser(server.url, 'carol')]);
  const groupId = await groupWith(alice, [bob, carol]);
  return { alice, bob, carol, groupId };
}

const presenceOf = (user: TestUser, groupId?: string) => (f: Frame) =>
  f.type === 'chat:presence' && f.payload.userId === user.id && (groupId === undefined || f.payload.groupId === groupId);
const heard = (socket: ChatSocket, user: TestUser) => socket.frames.filter(presenceOf(user));
const path = (groupId: string) => `/mirror/api/groups/${groupId}/chat/presence`;

/** Broadcasts reach a socket in the order they were published: once it has the marker, anything earlier is there. */
async function marker(socket: ChatSocket, user: TestUser, groupId: string, status: 'away' | 'busy') {
  await user.api.put(path(groupId), { status });
  await socket.next((f) => presenceOf(user, groupId)(f) && f.payload.status === status);
}

describe('connecting', () => {
  it('brings a member online with their first connection, and GET shows every member', async () => {
    const { alice, bob, carol, groupId } = await team();
    const a = await open(alice, groupId);
    await open(bob);
    const online = await a.next(presenceOf(bob));
    expect(online.payload).toEqual({ groupId, userId: bob.id, status: 'online', lastSeen: expect.any(String) });
    expect(Date.parse(online.payload.lastSeen)).not.toBeNaN();
    await open(bob);

    const listed = await carol.api.get(path(groupId));
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({
      success: true,
      data: {
        presence: [
          { userId: alice.id, status: 'online', lastSeen: expect.any(String) },
          { userId: bob.id, status: 'online', lastSeen: expect.any(String) },
          // Never seen: offline, and no lastSeen to show.
          { userId: carol.id, status: 'offline', lastSeen: null },
        ],
      },
    });

    await marker(a, carol, groupId, 'away');
    expect(heard(a, bob)).toEqual([]);
  });

  it('takes a member offline a grace after their last connection closes, keeping when they were last seen', async () => {
    const { alice, bob, carol, groupId } = await team();
    const a = await open(alice, groupId);
    const [b1, b2] = [await open(bob), await open(bob)];
    await a.next(presenceOf(bob));

    b1.close();
    await sleep(GRACE_MS * 2);
    await marker(a, carol, groupId, 'busy');
    expect(heard(a, bob)).toEqual([]);

    const closedAt = Date.now();
    b2.close();
    const offline = await a.next(presenceOf(bob), GRACE_MS * 20);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(GRACE_MS);
    expect(offline.payload).toEqual({ groupId, userId: bob.id, status: 'offline', lastSeen: expect.any(String) });
    const listed = await alice.api.get(path(groupId));
    expect(listed.body.data.presence.find((p: any) => p.userId === bob.id)).toEqual({
      userId: bob.id,
      status: 'offline',
      lastSeen: offline.payload.lastSeen,
    });

    await open(bob);
    expect((await a.next(presenceOf(bob))).payload.status).toBe('online');
  });

  it('does not flicker when a page reload reconnects within the grace', async () => {
    const { alice, bob, carol, groupId } = await team();
    const a = await open(alice, groupId);
    const before = await open(bob);
    await a.next(presenceOf(bob));
    before.close();
    // Long enough for the server to handle the close; the reload comes well inside the grace.
    await sleep(GRACE_MS / 3);
    await open(bob);
    await sleep(GRACE_MS * 2);
    await marker(a, carol, groupId, 'away');
    expect(heard(a, bob)).toEqual([]);
  });
});

describe('choosing a status', () => {
  it('tells every group the user shares, over REST and WebSocket, once per change', async () => {
    const { alice, bob, carol, groupId } = await team();
    const other = await groupWith(alice, [bob], 'Other');
    const a = await open(alice, groupId, other);
    const c = await open(carol, groupId);
    const b = await open(bob);
    await a.next(presenceOf(bob, groupId));
    await a.next(presenceOf(bob, other));
    await c.next(presenceOf(bob, groupId));

    const put = await bob.api.put(path(groupId), { status: 'away' });
    expect(put).toMatchObject({ status: 200, body: { success: true, data: { presence: { userId: bob.id, status: 'away' } } } });
    for (const [socket, group] of [[a, groupId], [a, other], [c, groupId]] as const) {
      const frame = await socket.next(presenceOf(bob, group));
      expect(frame.payload).toEqual({ groupId: group, userId: bob.id, status: 'away', lastSeen: put.body.data.presence.lastSeen });
    }

    b.send({ type: 'chat:presence_update', payload: { groupId: other, status: 'busy' } });
    for (const [socket, group] of [[a, groupId], [a, other], [c, groupId]] as const) {
      expect((await socket.next(presenceOf(bob, group))).payload.status).toBe('busy');
    }
    await b.settle();
    expect(b.frames.filter((f) => f.type === 'error')).toEqual([]);

    expect((await bob.api.put(path(other), { status: 'busy' })).body.data.presence.status).toBe('busy');
    const listed = await carol.api.get(path(groupId));
    expect(listed.body.data.presence.find((p: any) => p.userId === bob.id).status).toBe('busy');
    await marker(a, carol, groupId, 'away');
    expect(heard(a, bob)).toEqual([]);

    // Appearing offline while connected: others see offline, and it stays so.
    b.send({ type: 'chat:presence_update', payload: { groupId, status: 'offline' } });
    expect((await c.next(presenceOf(bob, groupId))).payload.status).toBe('offline');
    expect((await carol.api.get(path(groupId))).body.data.presence.find((p: any) => p.userId === bob.id).status).toBe('offline');
  });

  it('refuses what is not a status, and users who are not members', async () => {
    const { alice, groupId } = await team();
    const eve = await registerUser(server.url, 'eve');
    for (const body of [{ status: 'invisible' }, {}, { status: 'away', extra: true }]) {
      const answer = await alice.api.put(path(groupId), body);
      expect(answer).toMatchObject({ status: 400, body: { success: false, error: { code: 'VALIDATION_ERROR' } } });
    }
    expect((await eve.api.put(path(groupId), { status: 'away' })).body.error.code).toBe('FORBIDDEN');
    expect((await eve.api.get(path(groupId))).body.error.code).toBe('FORBIDDEN');
    expect((await eve.api.get(path(randomUUID()))).body.error.code).toBe('NOT_FOUND');

    const e = await open(eve);
    e.send({ type: 'chat:presence_update', payload: { groupId, status: 'away' }, requestId: 'p1' });
    expect((await e.nextOfType('error')).payload).toMatchObject({ code: 'FORBIDDEN', requestId: 'p1' });
    const a = await open(alice);
    a.send({ type: 'chat:presence_update', payload: { groupId, status: 'asleep' }, requestId: 'p2' });
    expect((await a.nextOfType('error')).payload).toMatchObject({ code: 'VALIDATION_ERROR', requestId: 'p2' });
  });
});

describe('restarts', () => {
  it('keeps a member’s last status and lastSeen', async () => {
    const { alice, bob, groupId } = await team();
    const a = await open(alice, groupId);
    const b = await open(bob);
    await a.next(presenceOf(bob));
    b.close();
    const offline = await a.next(presenceOf(bob), GRACE_MS * 20);

    await server.stop();
    server = await startTestServer({ backends, presenceGraceMs: GRACE_MS });
    const listed = await new RestClient(server.url, alice.token).get(path(groupId));
    expect(listed.body.data.presence.find((p: any) => p.userId === bob.id)).toEqual({
      userId: bob.id,
      status: 'offline',
      lastSeen: offline.payload.lastSeen,
    });
  });
});
