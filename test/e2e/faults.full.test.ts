/**
 * Faults (issue 7): a server killed with SIGKILL, Redis and MariaDB going away and coming back, each while clients
 * keep sending over REST and WebSocket. Nothing acknowledged (201, chat:message_sent) is lost, nothing is applied
 * twice, and the read models converge on the log. The shared services are never restarted (other test files use
 * them): each backend is reached through a proxy of this test's own, and a cut of the proxy (every connection
 * dropped, new ones refused for a few seconds) is what a restart of the service looks like to the server.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { REDIS_URL } from '../support/backends.js';
import { runCli } from '../support/cli.js';
import { ChatSocket, RestClient, groupWith, registerUser, type Frame, type TestUser } from '../support/client.js';
import { eventually } from '../support/read-side.js';
import { freshBackends, type TestBackends } from '../support/server.js';
import { spawnServer, type ServerProcess } from '../support/server-process.js';
import { tcpProxy } from '../support/tcp-proxy.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backendsFor(): Promise<TestBackends> {
  const backends = await freshBackends();
  cleanups.push(() => backends.drop());
  return backends;
}

async function serverOn(env: Record<string, string>): Promise<ServerProcess> {
  const server = await spawnServer(env);
  cleanups.push(() => server.kill());
  return server;
}

async function socketOf(server: ServerProcess, user: TestUser, groupId: string): Promise<ChatSocket> {
  const socket = await ChatSocket.open(server.wsUrl, user.token);
  cleanups.push(async () => socket.close());
  await socket.join(groupId);
  return socket;
}

/** One message a client tried to send, and the id it was acknowledged with, if it was. */
interface Attempt {
  clientMessageId: string;
  content: string;
  sender: TestUser;
  messageId?: string;
}

/** What a refused send answered: a status and the guide's error code, or that the connection itself failed. */
type Refusal = { status: number; body: any } | { network: true };

type Send = (attempt: Attempt) => Promise<string | Refusal>;

const chatPath = (groupId: string) => `/mirror/api/groups/${groupId}/chat`;

function overRest(api: RestClient, groupId: string): Send {
  return async ({ content, clientMessageId }) => {
    try {
      const answer = await api.post(`${chatPath(groupId)}/messages`, { content, clientMessageId });
      // 201 for a new message, 200 for a repeat of one the server already has.
      return answer.status === 201 || answer.status === 200 ? (answer.body.data.message.id as string) : { status: answer.status, body: answer.body };
    } catch {
      return { network: true };
    }
  };
}

function overWebSocket(socket: ChatSocket, groupId: string): Send {
  return async ({ content, clientMessageId }) => {
    if (socket.closed) return { network: true };
    socket.send({ type: 'chat:send_message', payload: { groupId, content, clientMessageId }, requestId: clientMessageId });
    const answer = await socket.next((f: Frame) => f.requestId === clientMessageId, 20_000).catch(() => null);
    if (!answer) return { network: true };
    return answer.type === 'chat:message_sent' ? (answer.payload.message.id as string) : { status: 0, body: answer.payload };
  };
}

/** A client sending one message after another, with a short pause between, until stopped. */
function keepSending(sender: TestUser, send: Send) {
  const attempts: Attempt[] = [];
  const refusals: Refusal[] = [];
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) {
      const attempt: Attempt = { clientMessageId: randomUUID(), content: `${sender.username} #${i}`, sender };
      attempts.push(attempt);
      const answer = await send(attempt);
      if (typeof answer === 'string') attempt.messageId = answer;
      else refusals.push(answer);
      await sleep(15);
    }
  })();
  return {
    attempts,
    refusals,
    acknowledged: () => attempts.filter((a) => a.messageId).length,
    async stop() {
      running = false;
      await done;
    },
  };
}
type Sender = ReturnType<typeof keepSending>;

const acknowledged = (senders: Sender[]) => senders.reduce((n, s) => n + s.acknowledged(), 0);

/**
 * What a client does with a send it never saw acknowledged: sends it again, with the same clientMessageId, until it
 * is. The server answers a repeat with the message it already has, so this never makes a second one.
 */
async function resend(server: ServerProcess, attempts: Attempt[], groupId: string): Promise<void> {
  for (const attempt of attempts.filter((a) => !a.messageId)) {
    const send = overRest(new RestClient(server.url, attempt.sender.token), groupId);
    await eventually(async () => {
      const answer = await send(attempt);
      if (typeof answer === 'string') attempt.messageId = answer;
      return typeof answer === 'string';
    });
  }
}

/** The group's whole history as `user` pages through it. */
async function history(server: ServerProcess, user: TestUser, groupId: string): Promise<any[]> {
  const api = new RestClient(server.url, user.token);
  const messages: any[] = [];
  let cursor: string | null = null;
  do {
    const page = await api.get(`${chatPath(groupId)}/messages?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    messages.push(...page.body.data.messages);
    cursor = page.body.data.pagination.hasMore ? page.body.data.pagination.nextCursor : null;
  } while (cursor);
  return messages;
}

/** Every attempt is in the history exactly once, under the id it was acknowledged with, and nothing else is. */
async function expectHistoryIsWhatWasSent(server: ServerProcess, reader: TestUser, groupId: string, attempts: Attempt[]) {
  const messages = await history(server, reader, groupId);
  const listed = messages.map((m) => ({ id: m.id, clientMessageId: m.clientMessageId, content: m.content })).sort((a, b) => a.id.localeCompare(b.id));
  const sent = attempts.map((a) => ({ id: a.messageId, clientMessageId: a.clientMessageId, content: a.content })).sort((a, b) => a.id!.localeCompare(b.id!));
  expect(listed).toEqual(sent);
  return messages;
}

/** Each member's unread count is the number of messages the others sent (nobody has read any). */
async function expectUnreadCounts(server: ServerProcess, members: TestUser[], groupId: string, messages: any[]) {
  for (const member of members) {
    const mine = await new RestClient(server.url, member.token).get(`${chatPath(groupId)}/unread-count`);
    expect(mine.body).toEqual({ success: true, data: { count: messages.filter((m) => m.senderUserId !== member.id).length } });
  }
}

/** Every projection's checkpoint is the log's head: `mirror-chat projections status`, as an operator would check. */
async function expectCaughtUp(env: Record<string, string>) {
  const status = await runCli(['projections', 'status', '--json'], env);
  expect(status.code, status.stderr).toBe(0);
  const { head, projections } = JSON.parse(status.stdout);
  for (const p of projections) expect(p).toMatchObject({ checkpoint: head.position, behind: 0 });
}

/** The read models equal a rebuild of them from the log, row by row: `mirror-chat projections verify`. */
async function expectSameAsRebuilt(env: Record<string, string>) {
  const verify = await runCli(['projections', 'verify', '--json'], env);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  expect(JSON.parse(verify.stdout).ok).toBe(true);
}

/** A refused send answers in the guide's envelope: never a stack trace, never a half answer. */
function expectCleanRefusals(refusals: Refusal[]) {
  for (const refusal of refusals) {
    expect(refusal).not.toHaveProperty('network');
    const { body } = refusal as { body: any };
    // Over REST the envelope; over WebSocket the `error` frame's payload.
    const error = 'success' in body ? (expect(body.success).toBe(false), body.error) : body;
    expect(error).toMatchObject({ code: 'SERVER_ERROR', message: expect.any(String) });
    expect(JSON.stringify(body)).not.toMatch(/\n\s+at |sql|mysql|ECONN/i);
  }
}

it('loses no acknowledged message and applies none twice when the server is killed with SIGKILL mid-sends', async () => {
  const backends = await backendsFor();
  let server = await serverOn(backends.env);
  const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((name) => registerUser(server.url, name)));
  const groupId = await groupWith(alice!, [bob!, carol!, dave!]);
  const carolSocket = await socketOf(server, carol!, groupId);

  const senders = [
    keepSending(alice!, overRest(alice!.api, groupId)),
    keepSending(bob!, overRest(bob!.api, groupId)),
    keepSending(carol!, overWebSocket(carolSocket, groupId)),
  ];
  await eventually(() => acknowledged(senders) >= 40);
  await server.kill();
  await Promise.all(senders.map((s) => s.stop()));
  // Only the sends in flight at the kill failed, and only because the connection went.
  for (const refusal of senders.flatMap((s) => s.refusals)) expect(refusal).toEqual({ network: true });
  const acknowledgedBeforeKill = senders.flatMap((s) => s.attempts.filter((a) => a.messageId).map((a) => ({ ...a })));

  server = await serverOn(backends.env);
  const attempts = senders.flatMap((s) => s.attempts);
  await resend(server, attempts, groupId);
  // An acknowledged send keeps the id it was acknowledged with; a repeat of one in flight at the kill got its original.
  for (const before of acknowledgedBeforeKill) expect(attempts.find((a) => a.clientMessageId === before.clientMessageId)!.messageId).toBe(before.messageId);
  const messages = await expectHistoryIsWhatWasSent(server, dave!, groupId, attempts);
  await expectUnreadCounts(server, [alice!, bob!, carol!, dave!], groupId, messages);
  await expectCaughtUp(backends.env);
}, 60_000);

it('keeps serving while Redis restarts, and broadcasts again once it is back', async () => {
  const backends = await backendsFor();
  const redis = await tcpProxy(REDIS_URL);
  cleanups.push(() => redis.cut());
  const server = await serverOn({ ...backends.env, REDIS_URL: redis.url });
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((name) => registerUser(server.url, name)));
  const groupId = await groupWith(alice!, [bob!, carol!]);
  const bobSocket = await socketOf(server, bob!, groupId);
  const carolSocket = await socketOf(server, carol!, groupId);

  const senders = [keepSending(alice!, overRest(alice!.api, groupId)), keepSending(carol!, overWebSocket(carolSocket, groupId))];
  await eventually(() => acknowledged(senders) >= 10);
  await redis.cut();
  const cutAt = Date.now();
  // While Redis is away messages are still sent and read; typing and presence live in Redis and may fail, cleanly.
  const atCut = acknowledged(senders);
  await eventually(() => acknowledged(senders) >= atCut + 4, 8000);
  expect((await alice!.api.get(`${chatPath(groupId)}/messages`)).status).toBe(200);
  for (const answer of [await alice!.api.post(`${chatPath(groupId)}/typing/start`), await bob!.api.get(`${chatPath(groupId)}/presence`)]) {
    if (answer.status >= 300) expect(answer.body).toEqual({ success: false, error: { code: 'SERVER_ERROR', message: expect.any(String) } });
  }
  await sleep(cutAt + 2500 - Date.now());
  await redis.restore();
  const atRestore = acknowledged(senders);
  await eventually(() => acknowledged(senders) >= atRestore + 10);
  await Promise.all(senders.map((s) => s.stop()));
  expect(server.child.exitCode).toBeNull();
  expectCleanRefusals(senders.flatMap((s) => s.refusals));

  // Pub/sub resubscribed: a new message reaches the other members' sockets, and typing reaches them again. The
  // server's subscriber reconnects with a back-off of its own, and what is published before it has is lost, as the
  // bus allows: the first messages after the restore may not arrive, a later one must.
  const probes: Attempt[] = [];
  const probe = async () => {
    const attempt: Attempt = { clientMessageId: randomUUID(), content: `Redis is back #${probes.length}`, sender: alice! };
    probes.push(attempt);
    const answer = await overRest(alice!.api, groupId)(attempt);
    expect(typeof answer).toBe('string');
    attempt.messageId = answer as string;
    return (f: Frame) => f.type === 'chat:message' && f.payload.message.id === attempt.messageId;
  };
  await eventually(async () => bobSocket.next(await probe(), 1000).then(() => true, () => false), 15_000);
  const isAfter = await probe();
  await bobSocket.next(isAfter);
  await carolSocket.next(isAfter);
  expect((await alice!.api.post(`${chatPath(groupId)}/typing/start`)).status).toBeLessThan(300);
  await bobSocket.next((f) => f.type === 'chat:typing' && f.payload.userId === alice!.id && f.payload.isTyping === true);
  const present = await bob!.api.get(`${chatPath(groupId)}/presence`);
  expect(present.status).toBe(200);

  await resend(server, senders.flatMap((s) => s.attempts), groupId);
  await expectHistoryIsWhatWasSent(server, bob!, groupId, [...senders.flatMap((s) => s.attempts), ...probes]);
}, 60_000);

it('resumes projecting from its checkpoint after MariaDB restarts, losing and repeating nothing', async () => {
  const backends = await backendsFor();
  const mariadb = await tcpProxy(backends.readDb!.url);
  cleanups.push(() => mariadb.cut());
  // A short wait for the read models, so that a send during the outage is refused in time for the client to retry it.
  const server = await serverOn({ ...backends.env, READ_DB_URL: mariadb.url, PROJECTION_WAIT_MS: '1500' });
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((name) => registerUser(server.url, name)));
  const groupId = await groupWith(alice!, [bob!, carol!]);
  const bobSocket = await socketOf(server, bob!, groupId);

  const senders = [keepSending(alice!, overRest(alice!.api, groupId)), keepSending(bob!, overWebSocket(bobSocket, groupId))];
  await eventually(() => acknowledged(senders) >= 20);
  // Away for a few seconds: sends are refused (or their answers time out) meanwhile, the projector loses its lock.
  await mariadb.cut();
  const atCut = acknowledged(senders);
  await sleep(3000);
  await mariadb.restore();
  await eventually(() => acknowledged(senders) >= atCut + 20, 20_000);
  await Promise.all(senders.map((s) => s.stop()));
  expect(server.child.exitCode).toBeNull();
  expectCleanRefusals(senders.flatMap((s) => s.refusals));

  const attempts = senders.flatMap((s) => s.attempts);
  await resend(server, attempts, groupId);
  const messages = await expectHistoryIsWhatWasSent(server, carol!, groupId, attempts);
  await expectUnreadCounts(server, [alice!, bob!, carol!], groupId, messages);
  await Promise.all([expectCaughtUp(backends.env), expectSameAsRebuilt(backends.env)]);
}, 60_000);
