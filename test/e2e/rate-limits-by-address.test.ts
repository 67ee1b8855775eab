/**
 * The limits counted by client address — sign-ups, and sign-ins with their account — and who the client is: the peer
 * the server sees, unless that peer is a proxy named in TRUST_PROXY, whose X-Forwarded-For then names the client.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBackends, startTestServer, type TestServer } from '../support/server.js';

const LIMIT = 2;
const servers: TestServer[] = [];

async function serverWith(env: Record<string, string>): Promise<TestServer> {
  const backends = await freshBackends();
  Object.assign(backends.env, { RATE_LIMIT_REGISTRATIONS_PER_HOUR: String(LIMIT), RATE_LIMIT_LOGINS_PER_HOUR: String(LIMIT) }, env);
  const server = await startTestServer({ backends });
  servers.push(server);
  return server;
}

afterAll(async () => {
  for (const server of servers) {
    await server.stop();
    await server.backends.drop();
  }
});

/** A POST as a client behind `forwardedFor` would send it through a proxy (or as anyone may write the header). */
async function post(server: TestServer, path: string, body: unknown, forwardedFor?: string) {
  const response = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any, retryAfter: response.headers.get('retry-after') };
}

const newName = () => `user_${randomBytes(4).toString('hex')}`;
const signUp = (server: TestServer, username: string, forwardedFor?: string) =>
  post(server, '/mirror/api/auth/register', { username, email: `${username}@example.test`, password: 'correct horse battery' }, forwardedFor);
const signIn = (server: TestServer, username: string, password: string, forwardedFor?: string) =>
  post(server, '/mirror/api/auth/login', { username, password }, forwardedFor);

function expectRefused(answer: Awaited<ReturnType<typeof post>>, message: string): void {
  expect(answer.status).toBe(429);
  expect(answer.body).toEqual({ success: false, error: { code: 'RATE_LIMITED', message, details: { retryAfter: expect.any(Number) } } });
  expect(answer.retryAfter).toBe(String(answer.body.error.details.retryAfter));
}
const TOO_MANY_SIGN_UPS = 'Too many new accounts from this address. Please wait before trying again.';

describe('reached directly (TRUST_PROXY unset)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await serverWith({});
  });

  it('allows RATE_LIMIT_REGISTRATIONS_PER_HOUR sign-ups an hour per address, then refuses and creates no account', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await signUp(server, newName())).status).toBe(201);
    const refusedName = newName();
    expectRefused(await signUp(server, refusedName), TOO_MANY_SIGN_UPS);
    // A header anyone can write names no one: the peer is still the client.
    expectRefused(await signUp(server, refusedName, '198.51.100.1'), TOO_MANY_SIGN_UPS);
    expect((await signIn(server, refusedName, 'correct horse battery')).status).toBe(401);
  });
});

describe('behind a trusted proxy (TRUST_PROXY=127.0.0.1)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await serverWith({ TRUST_PROXY: '127.0.0.1' });
  });

  it('counts sign-ups per client the proxy names', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await signUp(server, newName(), '203.0.113.5')).status).toBe(201);
    expectRefused(await signUp(server, newName(), '203.0.113.5'), TOO_MANY_SIGN_UPS);
    expect((await signUp(server, newName(), '203.0.113.6')).status).toBe(201);
    // The log names the client, not the proxy.
    expect(server.logs.some((line) => line.includes('"remoteAddress":"203.0.113.6"'))).toBe(true);
  });

  it("keeps a stranger's wrong guesses from locking the account's owner out", async () => {
    const owner = newName();
    expect((await signUp(server, owner, '203.0.113.20')).status).toBe(201);
    for (let i = 0; i < LIMIT; i++) expect((await signIn(server, owner, 'a wrong guess', '198.51.100.66')).status).toBe(401);
    expectRefused(await signIn(server, owner, 'a wrong guess', '198.51.100.66'), 'Too many sign-in attempts. Please wait before trying again.');
    expect((await signIn(server, owner, 'correct horse battery', '203.0.113.20')).status).toBe(200);
  });
});
