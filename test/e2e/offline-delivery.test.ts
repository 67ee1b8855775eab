/**
 * Offline delivery, told as one story on the profile's backends: a local HTTP server is the webhook (it records every
 * call and fails for whom it is told to). Members without a connection are told of new messages through it, as their
 * preferences allow; a failing webhook is retried with backoff, then dead-lettered; a member who connects gets over
 * the socket what the webhook did not deliver; without a webhook, deliveries wait for the member across restarts.
 * Last, with the server stopped, the queue's rows and the dead-letter queue are read from the databases themselves.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMysqlDb } from '../../src/infra/sql/mysql/index.js';
import { openPgliteDb } from '../../src/infra/sql/pglite/index.js';
import { openPostgresDb } from '../../src/infra/sql/postgres/index.js';
import { deliveryId } from '../../src/projections/delivery.js';
import { profile } from '../support/backends.js';
import { ChatSocket, RestClient, groupWith, registerUser, type TestUser } from '../support/client.js';
import { eventually } from '../support/read-side.js';
import { freshBackends, startTestServer, type TestBackends, type TestServer } from '../support/server.js';

const SECRET = `webhook-secret-${randomBytes(8).toString('hex')}`;
const RETRY_DELAY_SECONDS = 1;

interface WebhookCall {
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  body: any;
  receivedAt: number;
}

/** The webhook: records each call, answers 500 to a recipient while `failures` says so, else 204. */
const calls: WebhookCall[] = [];
const failures = new Map<number, number>();
let webhook: Server;

let backends: TestBackends;
let server: TestServer | null = null;
const sockets: ChatSocket[] = [];

/** The story's messages, by what they show, and its users: the last test reads back what became of each. */
const story = {} as Record<'hello' | 'plainNews' | 'mentionsErin' | 'failing' | 'whileAway' | 'deleted', { groupId: string; messageId: string }>;
const cast = {} as Record<'alice' | 'bob' | 'carol' | 'dave' | 'erin' | 'frank' | 'grace' | 'judy' | 'henry', TestUser>;

/** (Re)starts the server on the same backends, with the webhook or without; the users so far call it at its new port. */
async function restart(url: string | null): Promise<void> {
  await server?.stop();
  server = await startTestServer({ backends: withWebhook(url) });
  for (const user of Object.values(cast)) user.api = new RestClient(server.url, user.token);
}

/** The test backends' environment, with or without the webhook. */
const withWebhook = (url: string | null): TestBackends => {
  const env = { ...backends.env };
  if (url) Object.assign(env, { DELIVERY_WEBHOOK_URL: url, DELIVERY_WEBHOOK_SECRET: SECRET, DELIVERY_RETRY_LIMIT: '1', DELIVERY_RETRY_DELAY_SECONDS: String(RETRY_DELAY_SECONDS) });
  return { ...backends, env };
};
let webhookUrl: string;

beforeAll(async () => {
  webhook = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => (raw += chunk));
    request.on('end', () => {
      const body = JSON.parse(raw);
      calls.push({ headers: request.headers, raw, body, receivedAt: Date.now() });
      const left = failures.get(body.recipientUserId) ?? 0;
      failures.set(body.recipientUserId, left - 1);
      response.writeHead(left > 0 ? 500 : 204).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hooks/chat`;
  backends = await freshBackends();
  await restart(webhookUrl);
});
afterAll(async () => {
  sockets.forEach((s) => s.close());
  await server?.stop();
  await backends?.drop();
  await new Promise((resolve) => webhook?.close(resolve));
});

const callsFor = (user: TestUser, messageId: string) => calls.filter((c) => c.body.recipientUserId === user.id && c.body.messageId === messageId);
const untilCalls = (user: TestUser, messageId: string, count: number) => eventually(() => callsFor(user, messageId).length >= count, 15_000);

async function users<const N extends readonly string[]>(...names: N): Promise<{ [K in keyof N]: TestUser }> {
  return Promise.all(names.map((name) => registerUser(server!.url, name))) as Promise<{ [K in keyof N]: TestUser }>;
}

async function send(from: TestUser, groupId: string, content: string): Promise<string> {
  const answer = await from.api.post(`/mirror/api/groups/${groupId}/chat/messages`, { content });
  expect(answer.status).toBe(201);
  return answer.body.data.message.id;
}

async function connect(user: TestUser): Promise<ChatSocket> {
  const socket = await ChatSocket.open(server!.wsUrl, user.token);
  sockets.push(socket);
  return socket;
}

describe('offline delivery', () => {
  it('tells a member without a connection through the webhook — signed, without the text — and not the sender or a member online', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    Object.assign(cast, { alice, bob, carol });
    const groupId = await groupWith(alice, [bob, carol], 'Launch');
    await connect(carol);
    const presence = async () => (await alice.api.get(`/mirror/api/groups/${groupId}/chat/presence`)).body.data.presence;
    await eventually(async () => (await presence()).some((p: any) => p.userId === carol.id && p.status === 'online'));

    const marker = `SECRET-TEXT-${randomBytes(6).toString('hex')}`;
    const messageId = await send(alice, groupId, `hello ${marker}`);
    story.hello = { groupId, messageId };
    await untilCalls(bob, messageId, 1);

    const [call] = callsFor(bob, messageId);
    expect(call!.body).toEqual({
      type: 'chat:offline_message',
      deliveryId: deliveryId(messageId, bob.id),
      attempt: 1,
      recipientUserId: bob.id,
      groupId,
      groupName: 'Launch',
      messageId,
      senderUserId: alice.id,
      senderUsername: alice.username,
      contentType: 'text',
      threadRootId: null,
      mentioned: false,
      sentAt: expect.any(String),
    });
    expect(call!.raw).not.toContain(marker);
    expect(call!.headers['content-type']).toBe('application/json');
    expect(call!.headers['x-mirror-delivery']).toBe(call!.body.deliveryId);
    expect(call!.headers['x-mirror-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(call!.raw).digest('hex')}`);
  });

  it('honours preferences: a muted member hears nothing, one on mentions only hears only of mentions', async () => {
    const { alice } = cast;
    const [dave, erin] = await users('dave', 'erin');
    Object.assign(cast, { dave, erin });
    const groupId = await groupWith(alice, [dave, erin]);
    expect((await dave.api.put(`/mirror/api/groups/${groupId}/chat/preferences`, { muted: true })).status).toBe(200);
    expect((await erin.api.put(`/mirror/api/groups/${groupId}/chat/preferences`, { notifyLevel: 'mentions' })).status).toBe(200);

    story.plainNews = { groupId, messageId: await send(alice, groupId, 'plain news, nobody named') };
    const mentioning = await send(alice, groupId, `@${erin.username} please look`);
    story.mentionsErin = { groupId, messageId: mentioning };
    await untilCalls(erin, mentioning, 1);
    expect(callsFor(erin, mentioning)[0]!.body).toMatchObject({ recipientUserId: erin.id, mentioned: true, attempt: 1 });
    // That nobody else was queued for either message, the rows themselves show in the last test.
  });

  it('retries a failing webhook with backoff, then dead-letters the delivery; one that recovers is delivered', async () => {
    const [frank, grace, judy] = await users('frank', 'grace', 'judy');
    Object.assign(cast, { frank, grace, judy });
    failures.set(frank.id, Infinity);
    failures.set(judy.id, Infinity);
    failures.set(grace.id, 1);
    const groupId = await groupWith(cast.alice, [frank, grace, judy]);
    const messageId = await send(cast.alice, groupId, 'this one meets a failing webhook');
    story.failing = { groupId, messageId };

    await Promise.all([untilCalls(frank, messageId, 2), untilCalls(judy, messageId, 2), untilCalls(grace, messageId, 2)]);
    for (const user of [frank, grace, judy]) expect(callsFor(user, messageId).map((c) => c.body.attempt)).toEqual([1, 2]);
    // The retry waited at least the configured delay (pg-boss adds up to as much again); the rows and the
    // dead-letter queue show in the last test that no third attempt was made.
    const [first, second] = callsFor(frank, messageId).map((c) => c.receivedAt);
    expect(second! - first!).toBeGreaterThanOrEqual(RETRY_DELAY_SECONDS * 1000);
  });

  it('sends a connecting member what the webhook did not deliver, as chat:message frames before anything else, once', async () => {
    const { judy } = cast;
    // Every webhook attempt for judy failed: her socket still gets the message, ahead of the answer to her ping.
    const socket = await connect(judy);
    await socket.settle();
    expect(socket.frames.map((f) => f.type)).toEqual(['chat:message']);
    expect(socket.frames[0]!.payload).toMatchObject({
      groupId: story.failing.groupId,
      message: { id: story.failing.messageId, content: 'this one meets a failing webhook', senderUserId: cast.alice.id },
    });
    socket.close();

    const again = await connect(judy);
    await again.settle();
    expect(again.frames.filter((f) => f.type === 'chat:message')).toEqual([]);
  });

  it('without a webhook, keeps deliveries for the member to connect, across a restart; a deleted message is skipped', async () => {
    await restart(null);
    const [henry] = await users('henry');
    cast.henry = henry;
    const groupId = await groupWith(cast.alice, [henry]);
    story.whileAway = { groupId, messageId: await send(cast.alice, groupId, 'sent while henry was away') };
    story.deleted = { groupId, messageId: await send(cast.alice, groupId, 'sent, then taken back') };
    expect((await cast.alice.api.delete(`/mirror/api/groups/${groupId}/chat/messages/${story.deleted.messageId}`)).status).toBe(200);

    await restart(null);
    const socket = await connect(henry);
    await socket.settle();
    expect(socket.frames.filter((f) => f.type === 'chat:message').map((f) => [f.payload.message.id, f.payload.message.content])).toEqual([
      [story.whileAway.messageId, 'sent while henry was away'],
    ]);
    expect(calls.some((c) => c.body.recipientUserId === henry.id)).toBe(false);
  });

  it('records what became of each delivery, and puts each dead one in the dead-letter queue', async () => {
    sockets.forEach((s) => s.close());
    await server!.stop();
    server = null;
    const { read, jobs, close } = await openStores();
    try {
      const rows = await sql<{ message_id: string; user_id: number; status: string; attempts: number; last_error: string | null }>`
        select message_id, user_id, status, attempts, last_error from mirror_group_message_delivery_queue`.execute(read);
      const state = (messageId: string) =>
        rows.rows
          .filter((r) => r.message_id === messageId)
          .map((r) => ({ userId: r.user_id, status: r.status, attempts: Number(r.attempts), lastError: r.last_error }))
          .sort((a, b) => a.userId - b.userId);
      const { bob, erin, frank, grace, judy, henry } = cast;
      expect(state(story.hello.messageId)).toEqual([{ userId: bob.id, status: 'delivered', attempts: 1, lastError: null }]);
      expect(state(story.plainNews.messageId)).toEqual([]);
      expect(state(story.mentionsErin.messageId)).toEqual([{ userId: erin.id, status: 'delivered', attempts: 1, lastError: null }]);
      const failed = 'webhook answered HTTP 500';
      expect(state(story.failing.messageId)).toEqual(
        [
          { userId: frank.id, status: 'dead', attempts: 2, lastError: failed },
          { userId: grace.id, status: 'delivered', attempts: 2, lastError: null },
          { userId: judy.id, status: 'delivered', attempts: 2, lastError: failed },
        ].sort((a, b) => a.userId - b.userId),
      );
      expect(state(story.whileAway.messageId)).toEqual([{ userId: henry.id, status: 'delivered', attempts: 0, lastError: null }]);
      expect(state(story.deleted.messageId)).toEqual([{ userId: henry.id, status: 'skipped', attempts: 0, lastError: null }]);

      const dead = await sql<{ data: { deliveryId: string } | string }>`select data from pgboss.job where name = 'offline-delivery-dead'`.execute(jobs);
      const deadIds = dead.rows.map((r) => (typeof r.data === 'string' ? JSON.parse(r.data) : r.data).deliveryId).sort();
      expect(deadIds).toEqual([deliveryId(story.failing.messageId, frank.id), deliveryId(story.failing.messageId, judy.id)].sort());
      // Every call the webhook got is one of the rows above: nobody else was ever told.
      expect(calls.map((c) => c.body.recipientUserId).filter((id) => ![bob.id, erin.id, frank.id, grace.id, judy.id].includes(id))).toEqual([]);
    } finally {
      await close();
    }
  });
});

/** The read models and pg-boss's tables, as the stopped server left them (embedded: one PGlite under DATA_DIR). */
async function openStores(): Promise<{ read: Kysely<any>; jobs: Kysely<any>; close(): Promise<void> }> {
  if (profile === 'embedded') {
    const db = await openPgliteDb(join(backends.dataDir, 'pglite'));
    return { read: db, jobs: db, close: () => db.destroy() };
  }
  // Without QUEUE_URL, pg-boss lives in the PostgreSQL event store's database.
  const read = openMysqlDb(backends.readDb!.url);
  const jobs = openPostgresDb(backends.eventStoreDb!.url);
  return { read, jobs, close: async () => void (await Promise.all([read.destroy(), jobs.destroy()])) };
}
