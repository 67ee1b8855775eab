/**
 * Issue 7, "Hostile input": forged, tampered, expired and malformed tokens are refused everywhere — 401 UNAUTHORIZED
 * in the guide's envelope on every REST route that needs a token, close 4001 on the WebSocket — while a token made
 * the way the server makes its own (HS256, issuer, audience, exp) is accepted: the control that shows each refusal
 * is about the one thing wrong with its token.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ChatSocket, groupWith, registerUser, type TestUser } from '../support/client.js';
import { answerProblem } from '../support/hostile-input.js';
import { apiRoutes, queryOf, routePath, type Route } from '../support/routes.js';
import { freshBackends, startTestServer, type TestBackends, type TestServer } from '../support/server.js';

let backends: TestBackends;
let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let secret: Uint8Array;
let routes: Route[];
let params: Record<string, string | number>;

beforeAll(async () => {
  backends = await freshBackends();
  // Known to the test, so it can sign tokens that are wrong in one way only (the full profile sets one already).
  backends.env.JWT_SECRET ??= randomBytes(32).toString('hex');
  server = await startTestServer({ backends });
  secret = new TextEncoder().encode(server.config.JWT_SECRET);
  [alice, bob] = await Promise.all([registerUser(server.url, 'alice'), registerUser(server.url, 'bob')]);
  const groupId = await groupWith(alice, [bob]);
  const chat = `/mirror/api/groups/${groupId}/chat/messages`;
  const root = (await alice.api.post(chat, { content: 'root' })).body.data.message.id;
  const reply = (await bob.api.post(chat, { content: 'reply', parentMessageId: root })).body.data.message.id;
  routes = apiRoutes({ rootMessageId: root, replyId: reply, other: bob }).filter((r) => !r.anonymous);
  params = { groupId, messageId: root, userId: bob.id, emoji: '👍' };
});

afterAll(async () => {
  await server?.stop();
  await backends?.drop();
});

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** alice's claims as the server writes them; `changes` set (or, as undefined, remove) one of them. */
function claims(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const all: Record<string, unknown> = {
    id: alice.id,
    username: alice.username,
    email: `${alice.username}@example.test`,
    sessionId: randomUUID(),
    iat: now(),
    exp: now() + 3600,
    iss: server.config.JWT_ISSUER,
    aud: server.config.JWT_AUDIENCE,
    ...changes,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

const sign = (payload: Record<string, unknown>, header: Record<string, unknown> = {}, key: Parameters<SignJWT['sign']>[0] = secret, alg = 'HS256') =>
  new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', ...header }).sign(key);

/** Signed by hand, for headers jose would not write: HMAC-SHA256 over whatever header is given. */
function hmacSigned(header: Record<string, unknown>, payload: Record<string, unknown>, key: Uint8Array = secret): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

const withPart = (token: string, index: number, change: (part: string) => string) =>
  token
    .split('.')
    .map((part, i) => (i === index ? change(part) : part))
    .join('.');

/** Each token is wrong in exactly one way. */
const forgeries: Array<[string, () => Promise<string>]> = [
  ['alg none, unsigned', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`],
  ['alg "None", unsigned', async () => `${b64({ alg: 'None', typ: 'JWT' })}.${b64(claims())}.`],
  ['alg none with the signature of a real token', async () => withPart(await sign(claims()), 0, () => b64({ alg: 'none', typ: 'JWT' }))],
  ['HS256 with another secret', () => sign(claims(), {}, randomBytes(32))],
  ['HS256 with an empty secret', async () => hmacSigned({ alg: 'HS256', typ: 'JWT' }, claims(), new Uint8Array())],
  ['HS384 with the right secret (the algorithm is pinned)', () => sign(claims(), {}, secret, 'HS384')],
  ['HS512 with the right secret (the algorithm is pinned)', () => sign(claims(), {}, secret, 'HS512')],
  // Algorithm confusion: the header names an asymmetric algorithm, the signature is an HMAC with the server's secret.
  ['RS256 header over an HMAC made with the secret', async () => hmacSigned({ alg: 'RS256', typ: 'JWT' }, claims())],
  ['ES256 header over an HMAC made with the secret', async () => hmacSigned({ alg: 'ES256', typ: 'JWT' }, claims())],
  [
    "RS256 signed by the attacker's key, the key in the header",
    async () => {
      const { privateKey, publicKey } = await generateKeyPair('RS256');
      return sign(claims(), { jwk: await exportJWK(publicKey) }, privateKey, 'RS256');
    },
  ],
  ['expired a minute ago', () => sign(claims({ iat: now() - 7200, exp: now() - 60 }))],
  ['not valid for another hour (nbf)', () => sign(claims({ nbf: now() + 3600 }))],
  ['another issuer', () => sign(claims({ iss: 'someone-else' }))],
  ['no issuer', () => sign(claims({ iss: undefined }))],
  ['another audience', () => sign(claims({ aud: 'another-service' }))],
  ['an audience list without ours', () => sign(claims({ aud: ['another-service', 'a-third'] }))],
  ['no audience', () => sign(claims({ aud: undefined }))],
  ['no exp', () => sign(claims({ exp: undefined }))],
  ['exp not a number', () => sign(claims({ exp: 'tomorrow' }))],
  ['no iat', () => sign(claims({ iat: undefined }))],
  ['no id', () => sign(claims({ id: undefined }))],
  ['id as a string', async () => sign(claims({ id: String(alice.id) }))],
  ['id zero', () => sign(claims({ id: 0 }))],
  ['an account there is none of', () => sign(claims({ id: 999_999_999 }))],
  ["bob's id under alice's name", () => sign(claims({ id: bob.id }))],
  ['issued an hour from now', () => sign(claims({ iat: now() + 3600, exp: now() + 7200 }))],
  ['no sessionId', () => sign(claims({ sessionId: undefined }))],
  ['an unknown critical header', async () => hmacSigned({ alg: 'HS256', typ: 'JWT', crit: ['x-unknown'], 'x-unknown': true }, claims())],
  ["bob's token with alice's id put in", async () => withPart(bob.token, 1, (p) => b64({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), id: alice.id }))],
  ['a real token with one signature character changed', async () => withPart(alice.token, 2, (s) => `${s.slice(0, 5)}${s[5] === 'A' ? 'B' : 'A'}${s.slice(6)}`)],
  ['a real token without its signature', async () => withPart(alice.token, 2, () => '')],
  ['a real token with a fourth part', async () => `${alice.token}.${b64('extra')}`],
  ['a real token truncated', async () => alice.token.slice(0, -10)],
  ['a header that is not JSON', async () => withPart(alice.token, 0, () => b64('not json'))],
  ['garbage', async () => 'not-a-token'],
  ['three empty parts', async () => '..'],
  ['10 000 characters', async () => `${'a'.repeat(5_000)}.${'b'.repeat(4_998)}.c`],
  // Headers carry Latin-1 only; the WebSocket's query string gets the same text.
  ['non-ASCII', async () => 'tøkén.ÿ.\u00a0x'],
];

/** Authorization headers that are not `Bearer <token>`, though some carry a good token, for the REST routes. */
const badHeaders: Array<[string, () => Record<string, string>]> = [
  ['no Authorization header', () => ({})],
  ['Bearer with nothing after it', () => ({ authorization: 'Bearer ' })],
  ['Basic credentials', () => ({ authorization: `Basic ${Buffer.from(`${alice.username}:correct horse battery`).toString('base64')}` })],
  ['a good token without the Bearer scheme', () => ({ authorization: alice.token })],
  ['a good token twice', () => ({ authorization: `Bearer ${alice.token} ${alice.token}` })],
];

async function call(route: Route, headers: Record<string, string>) {
  const response = await fetch(`${server.url}${routePath(route, params)}${queryOf(route.query)}`, {
    method: route.method,
    headers: { ...headers, ...(route.body ? { 'content-type': 'application/json' } : {}) },
    body: route.body && JSON.stringify(route.body),
  });
  const text = await response.text();
  return { status: response.status, text, contentType: response.headers.get('content-type') };
}

/** What each route answered, where it was anything but the guide's 401 UNAUTHORIZED envelope. */
async function notRefused(headers: Record<string, string>): Promise<string[]> {
  const wrong: string[] = [];
  for (const route of routes) {
    const { status, text, contentType } = await call(route, headers);
    const problem = status !== 401 ? `status ${status}` : (answerProblem(status, text, contentType) ?? (JSON.parse(text).error.code !== 'UNAUTHORIZED' ? 'not UNAUTHORIZED' : null));
    if (problem) wrong.push(`${route.method} ${route.path}: ${problem} ${text.slice(0, 200)}`);
  }
  return wrong;
}

/** The ways a socket carries its token: `?token=`, and the subprotocols ['bearer', token] where the token can be one. */
const carriers = (token: string) => [{ protocol: false }, ...(/^[\w.-]+$/.test(token) ? [{ protocol: true }] : [])];

/** A socket opened with `token`: how it closed, and whether any frame sent before it did was answered. */
async function socketWith(token: string, carrier: { protocol: boolean }) {
  const socket = await ChatSocket.open(server.wsUrl, token, carrier);
  socket.send({ type: 'ping', requestId: 'before-auth' });
  socket.send({ type: 'chat:join_group', payload: { groupId: params.groupId }, requestId: 'join' });
  const closed = await socket.waitClosed();
  return { code: closed.code, frames: socket.frames };
}

describe('the control', () => {
  it.each([
    ['signed with jose', () => sign(claims())],
    ['signed by hand', async () => hmacSigned({ alg: 'HS256', typ: 'JWT' }, claims())],
  ])('accepts a token %s as the server signs them, on every route and on the WebSocket', async (_, make) => {
    const token = await make();
    for (const route of routes) expect((await call(route, { authorization: `Bearer ${token}` })).status, `${route.method} ${route.path}`).not.toBe(401);
    for (const carrier of carriers(token)) {
      const socket = await ChatSocket.open(server.wsUrl, token, carrier);
      await socket.settle();
      socket.close();
    }
  });
});

describe('forged and broken tokens', () => {
  it.each(forgeries)('%s: 401 UNAUTHORIZED on every REST route, close 4001 on the WebSocket', async (_, forge) => {
    const token = await forge();
    expect(await notRefused({ authorization: `Bearer ${token}` })).toEqual([]);
    for (const carrier of carriers(token)) {
      const socket = await socketWith(token, carrier);
      expect(socket, JSON.stringify(carrier)).toEqual({ code: 4001, frames: [] });
    }
  });

  it.each(badHeaders)('%s: 401 UNAUTHORIZED on every REST route', async (_, headers) => {
    expect(await notRefused(headers())).toEqual([]);
  });

  it('closes the WebSocket with 4001 without a token, with an empty one, or with two', async () => {
    for (const query of ['', '?token=', `?token=${alice.token}&token=${alice.token}`]) {
      const socket = new WebSocket(`${server.wsUrl}${query}`);
      const [code] = (await once(socket, 'close')) as [number];
      expect(code, query).toBe(4001);
    }
  });
});
