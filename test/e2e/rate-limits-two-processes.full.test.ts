/**
 * Two server processes on the same backends count a user's actions together, through Redis: a user cannot double
 * their limit by spreading requests or sockets over processes.
 */
import { expect, it } from 'vitest';
import { ChatSocket, RestClient, groupWith, registerUser } from '../support/client.js';
import type { TestServer } from '../support/server.js';
import type { ServerProcess } from '../support/server-process.js';
import { useTwoServers } from '../support/two-servers.js';

let first: ServerProcess;
let second: TestServer;
const sockets = useTwoServers(
  (servers) => ({ first, second } = servers),
  (env) => {
    delete env.RATE_LIMIT_WS_FRAMES_PER_SEC;
    // One message comes back every 15 s: none does while the test runs.
    env.RATE_LIMIT_HTTP_MESSAGES_PER_MIN = '4';
  },
);

it('counts HTTP messages of one user across processes', async () => {
  const alice = await registerUser(first.url, 'alice');
  const groupId = await groupWith(alice);
  const path = `/mirror/api/groups/${groupId}/chat/messages`;
  const post = (url: string, content: string) => new RestClient(url, alice.token).post(path, { content });

  const remaining = [];
  for (const [i, url] of [first.url, second.url, first.url, second.url].entries()) {
    const sent = await post(url, `message ${i}`);
    expect(sent.status).toBe(201);
    remaining.push(sent.headers.get('x-ratelimit-remaining'));
  }
  expect(remaining).toEqual(['3', '2', '1', '0']);
  expect((await post(first.url, 'too many')).body.error.code).toBe('RATE_LIMITED');
  expect((await post(second.url, 'too many')).body.error.code).toBe('RATE_LIMITED');
});

it('counts WebSocket frames of one user across processes', async () => {
  const bob = await registerUser(second.url, 'bob');
  const [here, there] = [await ChatSocket.open(first.wsUrl, bob.token), await ChatSocket.open(second.wsUrl, bob.token)];
  sockets.push(here, there);
  // Eight on each: within either process's own count, beyond the ten a second of both together.
  for (let i = 0; i < 8; i++) {
    here.send({ type: 'ping', requestId: `here-${i}` });
    there.send({ type: 'ping', requestId: `there-${i}` });
  }
  const answers = [];
  for (let i = 0; i < 8; i++) answers.push(await here.next((f) => f.requestId === `here-${i}`), await there.next((f) => f.requestId === `there-${i}`));
  const refused = answers.filter((f) => f.type === 'error');
  expect(refused.length).toBeGreaterThan(0);
  for (const frame of refused) expect(frame.payload.code).toBe('RATE_LIMITED');
});
