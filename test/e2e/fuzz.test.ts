/**
 * Issue 7, "Hostile input": thousands of random and malformed requests to every REST route and frames of every
 * WebSocket message type. None may get a 5xx (or a SERVER_ERROR frame), every error must be the guide's envelope,
 * no answer may show a stack trace or a path, and the server must go on serving — projector included — afterwards.
 * Inputs come from a seeded generator: a failure names its seed and case, and FUZZ_SEED=<seed> replays it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { ChatSocket, groupWith, registerUser, type TestUser } from '../support/client.js';
import { apiRoutes, queryOf, routePath, type Route } from '../support/routes.js';
import {
  answerProblem,
  deeplyNested,
  errorObjectProblem,
  fieldSweep,
  fuzzSeed,
  hostileStrings,
  hostileValue,
  leakIn,
  malformedJson,
  mutate,
  ownKeys,
  searchSyntax,
  seededRandom,
  type Random,
} from '../support/hostile-input.js';

const RANDOM_REST_CASES = 1000;
const RANDOM_WS_FRAMES = 800;
/** Requests in flight at once: enough to keep the server busy, few enough for a 2-core machine. */
const CONCURRENCY = 4;
const BODY_LIMIT = 256 * 1024;
const MAX_FRAME_BYTES = 64 * 1024;
/** A hundred frames, sends among them, each answered once projected: far more than it takes, far less than the test's time. */
const SETTLE_MS = 30_000;

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let eve: TestUser;
/** alice's group (bob is in it), with a thread; eve's group, which alice is not in. */
const ids = { group: '', rootMessage: '', reply: '', foreignGroup: '', foreignMessage: '' };
/** Real ids, so that some hostile requests get past validation into the commands and queries. */
let known: unknown[] = [];

beforeAll(async () => {
  server = await startTestServer();
  [alice, bob, eve] = await Promise.all([registerUser(server.url, 'alice'), registerUser(server.url, 'bob'), registerUser(server.url, 'eve')]);
  ids.foreignGroup = await groupWith(eve);
  ids.foreignMessage = (await eve.api.post(`/mirror/api/groups/${ids.foreignGroup}/chat/messages`, { content: 'elsewhere' })).body.data.message.id;
  await newThread();
});

/** A fresh group of alice and bob with a thread in it: hostile requests may well have deleted the last one. */
async function newThread(): Promise<void> {
  ids.group = await groupWith(alice, [bob]);
  const chat = `/mirror/api/groups/${ids.group}/chat/messages`;
  ids.rootMessage = (await alice.api.post(chat, { content: 'root' })).body.data.message.id;
  ids.reply = (await bob.api.post(chat, { content: 'reply', parentMessageId: ids.rootMessage })).body.data.message.id;
  known = [...Object.values(ids), alice.id, bob.id, eve.id, randomUUID()];
}

afterAll(() => server?.stop());

/** Register and login hash a password per try, and /health and friends take no input: fewer of those. */
function weightOf(route: Route): number {
  if (route.anonymous) return route.body ? 0.5 : 0.2;
  if (route.method === 'POST' && route.path.endsWith('/chat/messages')) return 2;
  return route.method === 'DELETE' && route.path.endsWith(':messageId') ? 0.5 : 1;
}

const routes = () => apiRoutes({ rootMessageId: ids.rootMessage, replyId: ids.reply, other: bob });

interface HostileRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** encodeURIComponent refuses lone surrogates; the URL parser would replace them with U+FFFD anyway. */
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/** Ids that exist, for each path parameter; the first is the one the field sweeps use. */
const realParams = (): Record<string, unknown[]> => ({
  groupId: [ids.group, ids.group, ids.foreignGroup],
  messageId: [ids.rootMessage, ids.reply, ids.foreignMessage],
  userId: [eve.id, bob.id, alice.id],
  emoji: ['👍', '❤️'],
});

const sweepParams = () => Object.fromEntries(Object.entries(realParams()).map(([name, values]) => [name, String(values[0])]));

/** A path parameter: usually one that exists, else anything, escaped or (to reach the URL decoder) not. */
function param(random: Random, name: string): string {
  const value = String(random.chance(0.6) ? random.pick(realParams()[name] ?? [randomUUID()]) : hostileValue(random, known, 0));
  return random.chance(0.15) ? value : encodeURIComponent(wellFormed(value));
}

const toQuery = (entries: Array<[string, unknown]>, encode: (s: string) => string) =>
  `?${entries
    .flatMap(([key, value]) =>
      (Array.isArray(value) ? value.slice(0, 5) : [value]).map((v) => `${encode(key)}=${encode(typeof v === 'object' ? JSON.stringify(v) : String(v))}`),
    )
    .join('&')}`;

function queryString(random: Random, template: Record<string, string> | undefined): string {
  if (!template && random.chance(0.7)) return '';
  const mutated = mutate(random, template ?? {}, known);
  const entries: Array<[string, unknown]> = typeof mutated === 'object' && mutated !== null ? Object.entries(mutated) : [['q', mutated]];
  if (random.chance(0.2)) entries.push([random.pick(['__proto__[polluted]', 'constructor[prototype][polluted]', 'limit', 'cursor', 'a[b][c]']), hostileValue(random, known, 0)]);
  return toQuery(entries, (s) => (random.chance(0.15) ? s.replace(/[&#]/g, '') : encodeURIComponent(wellFormed(s))));
}

/** A template with, somewhere inside it, a value nested far deeper than any schema goes. */
function withDeepValue(random: Random, template: Record<string, unknown>): string {
  const marker = '"__deep__"';
  const copy = structuredClone(template);
  let target: Record<string, unknown> = copy;
  for (;;) {
    const nested = Object.keys(target).filter((k) => typeof target[k] === 'object' && target[k] !== null && !Array.isArray(target[k]));
    if (nested.length === 0 || random.chance(0.3)) break;
    target = target[random.pick(nested)] as Record<string, unknown>;
  }
  const keys = Object.keys(target);
  target[keys.length > 0 && random.chance(0.5) ? random.pick(keys) : 'deep'] = '__deep__';
  return JSON.stringify(copy).replace(marker, deeplyNested(1_000 + random.int(60_000), random.pick(['array', 'object'] as const)));
}

function body(random: Random, template: Record<string, unknown>): { text: string | Buffer; contentType?: string } {
  const valid = JSON.stringify(template);
  const roll = random.int(20);
  if (roll < 10) return { text: JSON.stringify(mutate(random, template, known)) ?? 'null', contentType: 'application/json' };
  if (roll < 14) return { text: malformedJson(random, valid), contentType: 'application/json' };
  if (roll < 15) return { text: withDeepValue(random, template), contentType: 'application/json' };
  if (roll < 16) return { text: `{"content":"${'z'.repeat(BODY_LIMIT)}"}`, contentType: 'application/json' };
  if (roll < 18) {
    const contentType = random.pick([
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/jsonx',
      'application/octet-stream',
      '*/*',
      'application/json, text/plain',
      '',
    ]);
    return { text: random.chance(0.5) ? valid : 'a=1&b=2', contentType };
  }
  return { text: random.pick(['', ' ', '{}']), ...(random.chance(0.5) ? { contentType: 'application/json' } : {}) };
}

function hostileRequest(random: Random, route: Route): HostileRequest {
  const path = route.path.replace(/:(\w+)/g, (_, name: string) => param(random, name));
  let method: string = route.method;
  if (random.chance(0.03)) method = random.pick(['PATCH', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'POST', 'GET']);
  const headers: Record<string, string> = {};
  const token = route.anonymous ? random.pick([undefined, undefined, alice.token]) : random.pick([alice.token, alice.token, alice.token, eve.token]);
  if (token) headers.authorization = `Bearer ${token}`;
  const request: HostileRequest = { method, url: `${server.url}${path}${queryString(random, route.query)}`, headers };
  if (method === 'GET' || method === 'HEAD') return request;
  if (!route.body && random.chance(0.5)) return request;
  const { text, contentType } = body(random, route.body ?? {});
  if (contentType !== undefined) headers['content-type'] = contentType;
  request.body = text;
  return request;
}

/** Each route's valid request with one field at a time made hostile: every body field, then every query value. */
function fieldSweepRequests(all: Route[]): HostileRequest[] {
  const knownText = known.filter((v): v is string => typeof v === 'string');
  return all.flatMap((route) => {
    const path = routePath(route, sweepParams());
    const headers = { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' };
    const validBody = route.body && JSON.stringify(route.body);
    const bodies = route.body ? fieldSweep(route.body, knownText) : [];
    const queries = route.query ? (fieldSweep(route.query, route.query.q ? [...knownText, ...searchSyntax] : knownText) as Array<Record<string, unknown>>) : [];
    return [
      ...bodies.map((body) => ({ method: route.method, url: `${server.url}${path}`, headers, body: JSON.stringify(body) })),
      ...queries.map((query) => ({
        method: route.method,
        url: `${server.url}${path}${toQuery(Object.entries(query), (s) => encodeURIComponent(wellFormed(s)))}`,
        headers,
        ...(validBody ? { body: validBody } : {}),
      })),
    ];
  });
}

function pickRoute(random: Random, all: Route[]): Route {
  const total = all.reduce((sum, r) => sum + weightOf(r), 0);
  let point = random.next() * total;
  for (const route of all) {
    point -= weightOf(route);
    if (point < 0) return route;
  }
  return all[all.length - 1]!;
}

const describeRequest = (r: HostileRequest) => {
  const shown = r.body === undefined ? '' : ` ${JSON.stringify(String(r.body).slice(0, 200))} (${String(r.body).length} chars, ${r.headers['content-type']})`;
  return `${r.method} ${r.url.replace(server.url, '').slice(0, 300)}${shown}`;
};

/** Runs `work` over `items`, `limit` at a time. */
async function inPool<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

/** Server log lines at error level or above: a fault the answers may not have shown. */
const errorLogs = () =>
  server.logs
    .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message?: string } })
    .filter((entry) => entry.level >= 50)
    .map((entry) => `${entry.msg}: ${entry.err?.message ?? ''}`);

/** A valid send is answered, stored and readable: the server, the projector and the read models all still work. */
async function stillServes(): Promise<void> {
  const chat = `/mirror/api/groups/${ids.group}/chat/messages`;
  const content = `still here ${randomUUID()}`;
  // alice owns the group: no hostile request can have removed her from it.
  const sent = await alice.api.post(chat, { content });
  expect(sent.status).toBe(201);
  const page = await alice.api.get(`${chat}?limit=5`);
  expect(page.body.data.messages.map((m: { content: string }) => m.content)).toContain(content);
}

describe('hostile REST requests', () => {
  it(`gets no 5xx, only the guide's envelope and no internals: every field of every route swept, then ${RANDOM_REST_CASES} random requests (seed ${fuzzSeed})`, async () => {
    const all = routes();
    for (const route of all) expect(server.app.hasRoute({ method: route.method, url: route.path }), `${route.method} ${route.path}`).toBe(true);
    // Each sweep changes one field of a valid request: the valid one must pass, or the sweep proves little.
    for (const route of all.filter((r) => r.body || r.query)) {
      const answer = await fetch(`${server.url}${routePath(route, sweepParams())}${queryOf(route.query)}`, {
        method: route.method,
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
        body: route.body && JSON.stringify(route.body),
      });
      expect(answer.status, `${route.method} ${route.path}: ${await answer.text()}`).toBeLessThan(300);
    }

    const random = seededRandom(fuzzSeed);
    const requests = [...fieldSweepRequests(all), ...Array.from({ length: RANDOM_REST_CASES }, () => hostileRequest(random, pickRoute(random, all)))];
    const problems: string[] = [];
    await inPool(requests, CONCURRENCY, async (request, index) => {
      const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
      const text = await response.text();
      const problem =
        request.method === 'HEAD'
          ? response.status >= 500 || text !== '' ? `HEAD answered ${response.status} with a body` : null
          : answerProblem(response.status, text, response.headers.get('content-type'));
      if (problem) problems.push(`seed ${fuzzSeed} case ${index}: ${problem} — ${describeRequest(request)} → ${response.status} ${text.slice(0, 300)}`);
    });

    expect(problems).toEqual([]);
    expect(errorLogs()).toEqual([]);
    await stillServes();
  }, 120_000);
});

describe('hostile WebSocket frames', () => {
  function frameTemplates(): Array<Record<string, unknown>> {
    const groupId = ids.group;
    return [
      { type: 'ping', requestId: 'p' },
      { type: 'chat:join_group', payload: { groupId }, requestId: 'j' },
      { type: 'chat:leave_group', payload: { groupId: ids.foreignGroup }, requestId: 'l' },
      {
        type: 'chat:send_message',
        payload: { groupId, content: 'hi', contentType: 'text', parentMessageId: ids.rootMessage, clientMessageId: 'ws-fuzz', metadata: { custom: { a: 1 } } },
        requestId: 's',
      },
      { type: 'chat:mark_read', payload: { groupId, messageIds: [ids.reply] }, requestId: 'r' },
      { type: 'chat:typing_start', payload: { groupId } },
      { type: 'chat:typing_stop', payload: { groupId } },
      { type: 'chat:presence_update', payload: { groupId, status: 'busy' }, requestId: 'u' },
    ];
  }

  function hostileFrame(random: Random, templates: Array<Record<string, unknown>>): { data: string | Buffer; binary: boolean } {
    const template = random.pick(templates);
    const roll = random.int(20);
    if (roll < 1) return { data: Buffer.from(JSON.stringify(template)), binary: true };
    if (roll < 5) return { data: malformedJson(random, JSON.stringify(template)), binary: false };
    if (roll < 6) return { data: withDeepValue(random, template), binary: false };
    if (roll < 8) return { data: JSON.stringify(ownKeys([...Object.entries(template), ['type', random.pick([...hostileStrings.slice(0, 30), 'chat:message', 'error', 'pong'])]])), binary: false };
    return { data: JSON.stringify(mutate(random, template, known)) ?? 'null', binary: false };
  }

  it(`answers every field of every frame type swept, then ${RANDOM_WS_FRAMES} random frames, with well-formed errors, and keeps the socket (seed ${fuzzSeed})`, async () => {
    await newThread();
    const socket = await ChatSocket.open(server.wsUrl, alice.token);
    const problems: string[] = [];
    socket.ws.on('message', (data, isBinary) => {
      const text = String(data);
      const leak = leakIn(text);
      if (isBinary) problems.push('a binary frame from the server');
      if (leak) problems.push(`${leak}: ${text.slice(0, 300)}`);
      const frame = JSON.parse(text) as { type: string; payload?: unknown };
      if (frame.type !== 'error') return;
      const problem = errorObjectProblem(frame.payload, ['requestId', 'groupId']);
      if (problem) problems.push(`seed ${fuzzSeed}: ${problem} — ${text.slice(0, 300)}`);
    });
    await socket.join(ids.group);
    // As over REST, the sweeps start from frames that are valid.
    for (const template of frameTemplates()) socket.send(template);
    await socket.settle();
    expect(socket.frames.filter((f) => f.type === 'error')).toEqual([]);

    const random = seededRandom(fuzzSeed + 1);
    const templates = frameTemplates();
    const knownText = known.filter((v): v is string => typeof v === 'string');
    const swept = templates.flatMap((t) => fieldSweep(t, knownText)).map((frame) => ({ data: JSON.stringify(frame), binary: false }));
    const frames = [...swept, ...Array.from({ length: RANDOM_WS_FRAMES }, () => hostileFrame(random, templates))]
      // Larger frames close the socket (1009, the next test): these are to reach the handlers.
      .filter(({ data }) => Buffer.byteLength(data) <= MAX_FRAME_BYTES);
    for (const [i, { data, binary }] of frames.entries()) {
      // Text frames must be UTF-8: what cannot be is sent as binary, which the server refuses in its own way.
      socket.ws.send(data, { binary: binary || Buffer.isBuffer(data) });
      // A send is answered after its projection: pausing now and then keeps the socket's queue from growing unbounded.
      if (i % 100 === 99) await socket.settle(SETTLE_MS);
    }
    await socket.settle(SETTLE_MS);

    expect(problems).toEqual([]);
    expect(socket.closed).toBeUndefined();
    socket.close();
    expect(errorLogs()).toEqual([]);
    await stillServes();
  }, 120_000);

  it('closes only the socket of a frame the protocol refuses, and serves the others', async () => {
    const bystander = await ChatSocket.open(server.wsUrl, bob.token);
    const tooLarge = await ChatSocket.open(server.wsUrl, alice.token);
    tooLarge.send({ type: 'chat:send_message', payload: { groupId: ids.group, content: 'x'.repeat(70_000) }, requestId: 'big' });
    expect((await tooLarge.waitClosed()).code).toBe(1009);

    const notUtf8 = await ChatSocket.open(server.wsUrl, alice.token);
    notUtf8.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await notUtf8.waitClosed()).code).toBe(1007);

    await bystander.settle();
    expect(bystander.closed).toBeUndefined();
    bystander.close();
    await stillServes();
  });
});
