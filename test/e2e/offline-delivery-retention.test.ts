/**
 * The delivery queue does not grow for ever: a member who stays away past DELIVERY_RETENTION_DAYS is no longer owed
 * the messages sent before it (their rows are forgotten), and reads them in the group's history instead.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChatSocket, groupWith, registerUser, RestClient, type TestUser } from '../support/client.js';
import { eventually } from '../support/read-side.js';
import { freshBackends, startTestServer, type TestBackends, type TestServer } from '../support/server.js';

const DAY_MS = 24 * 3600 * 1000;
let backends: TestBackends;
let server: TestServer | null = null;
let socket: ChatSocket | null = null;

beforeAll(async () => {
  backends = await freshBackends();
  backends.env.DELIVERY_RETENTION_DAYS = '30';
});
afterAll(async () => {
  socket?.close();
  await server?.stop();
  await backends?.drop();
});

/** (Re)starts the server on the same backends, its clock `daysAhead` days ahead of the wall clock's. */
async function startAt(daysAhead: number, users: TestUser[]): Promise<TestServer> {
  await server?.stop();
  server = await startTestServer({ backends, clock: () => new Date(Date.now() + daysAhead * DAY_MS) });
  for (const user of users) user.api = new RestClient(server.url, user.token);
  return server;
}

async function send(from: TestUser, groupId: string, content: string): Promise<string> {
  const answer = await from.api.post(`/mirror/api/groups/${groupId}/chat/messages`, { content });
  expect(answer.status).toBe(201);
  return answer.body.data.message.id;
}

it('forgets what a member away past the retention was owed, and still delivers what is newer', async () => {
  const first = await startAt(0, []);
  const [alice, bob] = [await registerUser(first.url, 'alice'), await registerUser(first.url, 'bob')];
  const groupId = await groupWith(alice, [bob]);
  const old = await send(alice, groupId, 'sent while bob was away, long ago');

  // A month and a day later.
  const later = await startAt(31, [alice, bob]);
  await eventually(() => later.logs.some((line) => line.includes('forgot the rows of messages past DELIVERY_RETENTION_DAYS')));
  const recent = await send(alice, groupId, 'sent while bob was away, today');

  socket = await ChatSocket.open(later.wsUrl, bob.token);
  await socket.settle();
  expect(socket.frames.filter((f) => f.type === 'chat:message').map((f) => f.payload.message.id)).toEqual([recent]);
  // The history still has both.
  const history = await bob.api.get(`/mirror/api/groups/${groupId}/chat/messages?limit=10`);
  expect(history.body.data.messages.map((m: { id: string }) => m.id).sort()).toEqual([old, recent].sort());
});
