/**
 * Typing and presence when a user's sockets and requests land on different server processes sharing one Redis. Both
 * servers run in this test's process (so the windows can be shortened), each with its own Redis connections, timers
 * and sockets: to Redis they are two processes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChatSocket, RestClient, groupWith, registerUser, type Frame, type TestUser } from '../support/client.js';
import { freshBackends, startTestServer, type TestBackends, type TestServer } from '../support/server.js';

const GRACE_MS = 300;
const WINDOW_MS = 500;

let backends: TestBackends;
let first: TestServer;
let second: TestServer;
const sockets: ChatSocket[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  backends = await freshBackends();
  const options = { backends, presenceGraceMs: GRACE_MS, typingMs: WINDOW_MS };
  first = await startTestServer(options);
  second = await startTestServer(options);
});
afterAll(async () => {
  sockets.forEach((s) => s.close());
  await first?.stop();
  await second?.stop();
  await backends?.drop();
});

async function open(server: TestServer, user: TestUser, groupId?: string): Promise<ChatSocket> {
  const socket = await ChatSocket.open(server.wsUrl, user.token);
  sockets.push(socket);
  if (groupId) await socket.join(groupId);
  return socket;
}

const about = (type: string, user: TestUser) => (f: Frame) => f.type === type && f.payload.userId === user.id;

it('keeps a user online while any process holds one of their sockets, and takes them offline once', async () => {
  const [alice, bob, carol] = await Promise.all([registerUser(first.url, 'alice'), registerUser(first.url, 'bob'), registerUser(first.url, 'carol')]);
  const groupId = await groupWith(alice, [bob, carol]);
  const a = await open(first, alice, groupId);
  const onFirst = await open(first, bob);
  expect((await a.next(about('chat:presence', bob))).payload.status).toBe('online');
  const onSecond = await open(second, bob);

  onFirst.close();
  await sleep(GRACE_MS * 2);
  // Marker: carol's change comes after anything about bob that went out before it.
  await new RestClient(second.url, carol.token).put(`/mirror/api/groups/${groupId}/chat/presence`, { status: 'away' });
  await a.next((f) => about('chat:presence', carol)(f) && f.payload.status === 'away');
  expect(a.frames.filter(about('chat:presence', bob))).toEqual([]);

  onSecond.close();
  expect((await a.next(about('chat:presence', bob), GRACE_MS * 20)).payload.status).toBe('offline');
  await sleep(GRACE_MS * 2);
  await new RestClient(second.url, carol.token).put(`/mirror/api/groups/${groupId}/chat/presence`, { status: 'busy' });
  await a.next((f) => about('chat:presence', carol)(f) && f.payload.status === 'busy');
  expect(a.frames.filter(about('chat:presence', bob))).toEqual([]);
});

it('announces a typing state once and ends it once, whichever process each start reached', async () => {
  const [alice, bob, carol] = await Promise.all([registerUser(first.url, 'alice'), registerUser(first.url, 'bob'), registerUser(first.url, 'carol')]);
  const groupId = await groupWith(alice, [bob, carol]);
  const a = await open(first, alice, groupId);
  const b = await open(second, bob, groupId);
  const c = await open(second, carol, groupId);

  await alice.api.post(`/mirror/api/groups/${groupId}/chat/typing/start`);
  for (const s of [b, c]) expect((await s.next(about('chat:typing', alice))).payload.isTyping).toBe(true);
  await sleep(WINDOW_MS / 2);
  // The later start, on the other process, takes over the expiry; the first process's timer must come to nothing.
  const lastStart = Date.now();
  await new RestClient(second.url, alice.token).post(`/mirror/api/groups/${groupId}/chat/typing/start`);
  const ended = await b.next(about('chat:typing', alice), WINDOW_MS * 10);
  expect(ended.payload.isTyping).toBe(false);
  expect(Date.now() - lastStart).toBeGreaterThanOrEqual(WINDOW_MS);

  await sleep(WINDOW_MS);
  // Markers: a typist's own sockets hear nothing of them, so carol marks bob's socket and bob marks carol's.
  await new RestClient(first.url, carol.token).post(`/mirror/api/groups/${groupId}/chat/typing/start`);
  await b.next(about('chat:typing', carol));
  await bob.api.post(`/mirror/api/groups/${groupId}/chat/typing/start`);
  await c.next(about('chat:typing', bob));
  expect(b.frames.filter(about('chat:typing', alice))).toEqual([]);
  expect(c.frames.filter(about('chat:typing', alice)).map((f) => f.payload.isTyping)).toEqual([false]);
  expect(a.frames.filter(about('chat:typing', alice))).toEqual([]);
});
