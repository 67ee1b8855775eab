/**
 * Growing past one process: two servers on the same backends serve one conversation. Broadcasts cross processes
 * through Redis, exactly one process projects, and when it dies the other takes over.
 */
import { expect, it } from 'vitest';
import { ChatSocket, groupWith, registerUser } from '../support/client.js';
import type { TestServer } from '../support/server.js';
import type { ServerProcess } from '../support/server-process.js';
import { useTwoServers } from '../support/two-servers.js';

let first: ServerProcess;
let second: TestServer;
const sockets = useTwoServers((servers) => ({ first, second } = servers));

it('delivers across processes, and keeps projecting after the projecting process is killed', async () => {
  const alice = await registerUser(first.url, 'alice');
  const bob = await registerUser(second.url, 'bob');
  const groupId = await groupWith(alice, [bob]);

  const aliceSocket = await ChatSocket.open(first.wsUrl, alice.token);
  const bobSocket = await ChatSocket.open(second.wsUrl, bob.token);
  sockets.push(aliceSocket, bobSocket);
  await aliceSocket.join(groupId);
  await bobSocket.join(groupId);

  aliceSocket.send({ type: 'chat:send_message', payload: { groupId, content: 'from process one' }, requestId: 'a1' });
  expect((await bobSocket.nextOfType('chat:message')).payload.message.content).toBe('from process one');
  await bob.api.post(`/mirror/api/groups/${groupId}/chat/messages`, { content: 'from process two' });
  expect((await aliceSocket.nextOfType('chat:message')).payload.message.content).toBe('from process one');
  expect((await aliceSocket.nextOfType('chat:message')).payload.message.content).toBe('from process two');

  await first.kill();
  const aliceOnSecond = await ChatSocket.open(second.wsUrl, alice.token);
  sockets.push(aliceOnSecond);
  await aliceOnSecond.join(groupId);
  const after = await bob.api.post(`/mirror/api/groups/${groupId}/chat/messages`, { content: 'after the crash' });
  expect(after.status).toBe(201);
  const content = (text: string) => (f: { type: string; payload?: any }) => f.type === 'chat:message' && f.payload.message.content === text;
  await bobSocket.next(content('after the crash'));
  await aliceOnSecond.next(content('after the crash'));
  const listed = await bob.api.get(`/mirror/api/groups/${groupId}/chat/messages`);
  expect(listed.body.data.messages.map((m: any) => m.content)).toEqual(['from process one', 'from process two', 'after the crash']);
}, 60_000);
