/**
 * Rate limits, per user: messages over HTTP, other writes over HTTP, typing starts, and frames over WebSocket; sign-in
 * attempts per account. A
 * refusal is RATE_LIMITED in the guide's envelope, with the seconds to wait, and changes nothing. The per-minute
 * limits are set low here (and their defaults checked in test/unit/cli/config.test.ts), so that one action comes back
 * only every 12 s or more and a slow run cannot see one come back; the frame limit keeps its default of 10 a second,
 * which frames sent together exceed at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatSocket, groupWith, registerUser, RestClient, type ApiAnswer, type TestUser } from '../support/client.js';
import { freshBackends, startTestServer, type TestBackends, type TestServer } from '../support/server.js';

let backends: TestBackends;
let server: TestServer;
const sockets: ChatSocket[] = [];
const connect = async (user: TestUser) => {
  const socket = await ChatSocket.open(server.wsUrl, user.token);
  sockets.push(socket);
  return socket;
};
const register = (name: string) => registerUser(server.url, name);

beforeAll(async () => {
  backends = await freshBackends();
  delete backends.env.RATE_LIMIT_WS_FRAMES_PER_SEC;
  Object.assign(backends.env, { RATE_LIMIT_HTTP_MESSAGES_PER_MIN: '3', RATE_LIMIT_HTTP_WRITES_PER_MIN: '5', RATE_LIMIT_TYPING_STARTS_PER_MIN: '4', RATE_LIMIT_LOGINS_PER_HOUR: '3' });
  server = await startTestServer({ backends });
});
afterAll(async () => {
  sockets.forEach((s) => s.close());
  await server?.stop();
  await backends?.drop();
});

const limitHeaders = (answer: ApiAnswer) => ({
  limit: answer.headers.get('x-ratelimit-limit'),
  remaining: answer.headers.get('x-ratelimit-remaining'),
});

/** A refusal as the guide shows it: 429, RATE_LIMITED with details.retryAfter, and the same wait in Retry-After. */
function expectRefused(answer: ApiAnswer, limit: number, periodSeconds: number): void {
  expect(answer.status).toBe(429);
  expect(answer.body).toEqual({
    success: false,
    error: { code: 'RATE_LIMITED', message: expect.any(String), details: { retryAfter: expect.any(Number) } },
  });
  const { retryAfter } = answer.body.error.details;
  // One action comes back every period / limit.
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(Math.ceil(periodSeconds / limit));
  expect(answer.headers.get('retry-after')).toBe(String(retryAfter));
  expect(limitHeaders(answer)).toEqual({ limit: String(limit), remaining: '0' });
  const reset = Number(answer.headers.get('x-ratelimit-reset'));
  expect(reset).toBeGreaterThan(periodSeconds - 10);
  expect(reset).toBeLessThanOrEqual(periodSeconds);
}

describe('over HTTP', () => {
  it('allows RATE_LIMIT_HTTP_MESSAGES_PER_MIN messages a minute per user, then answers 429 RATE_LIMITED and stores nothing', async () => {
    const [alice, bob] = [await register('alice'), await register('bob')];
    const groupId = await groupWith(alice, [bob]);
    const path = `/mirror/api/groups/${groupId}/chat/messages`;

    for (let i = 1; i <= 3; i++) {
      const sent = await alice.api.post(path, { content: `message ${i}` });
      expect(sent.status).toBe(201);
      expect(limitHeaders(sent)).toEqual({ limit: '3', remaining: String(3 - i) });
    }
    const refused = await alice.api.post(path, { content: 'one too many' });
    expectRefused(refused, 3, 60);
    expect(refused.body.error.message).toBe('Too many messages. Please wait before sending more.');

    // Reading is never limited; the refused message was not sent.
    const listed = await alice.api.get(`${path}?limit=100`);
    expect(listed.status).toBe(200);
    expect(listed.headers.get('x-ratelimit-limit')).toBeNull();
    expect(listed.body.data.messages.map((m: any) => m.content)).not.toContain('one too many');
    expect(listed.body.data.messages).toHaveLength(3);

    // The limit is the user's: another member still sends, and the sender's other writes count elsewhere.
    expect((await bob.api.post(path, { content: 'my turn' })).status).toBe(201);
    const firstId = listed.body.data.messages[0].id;
    const edited = await alice.api.put(`${path}/${firstId}`, { content: 'edited' });
    expect(edited.status).toBe(200);
    expect(edited.headers.get('x-ratelimit-limit')).toBe('5');
  });

  it('allows RATE_LIMIT_HTTP_WRITES_PER_MIN other writes a minute per user, whichever route they go to', async () => {
    const carol = await register('carol');
    const groupId = await groupWith(carol);
    const presence = `/mirror/api/groups/${groupId}/chat/presence`;
    const preferences = `/mirror/api/groups/${groupId}/chat/preferences`;
    // Creating the group was the first.
    for (let i = 2; i <= 5; i++) {
      const answer = i % 2 ? await carol.api.put(presence, { status: 'online' }) : await carol.api.put(preferences, { muted: false });
      expect(answer.status).toBe(200);
      expect(limitHeaders(answer)).toEqual({ limit: '5', remaining: String(5 - i) });
    }
    const refused = await carol.api.put(preferences, { muted: true });
    expectRefused(refused, 5, 60);
    expect((await carol.api.get(preferences)).body.data.preferences.muted).toBe(false);
  });

  it('throttles typing starts to RATE_LIMIT_TYPING_STARTS_PER_MIN a minute, over REST and WebSocket together', async () => {
    const dave = await register('dave');
    const groupId = await groupWith(dave);
    for (let i = 1; i <= 4; i++) expect((await dave.api.post(`/mirror/api/groups/${groupId}/chat/typing/start`)).status).toBe(200);
    expectRefused(await dave.api.post(`/mirror/api/groups/${groupId}/chat/typing/start`), 4, 60);

    const socket = await connect(dave);
    socket.send({ type: 'chat:typing_start', payload: { groupId }, requestId: 'typing-5' });
    const error = await socket.nextOfType('error');
    expect(error).toMatchObject({ requestId: 'typing-5', payload: { code: 'RATE_LIMITED', requestId: 'typing-5', details: { retryAfter: expect.any(Number) } } });
    // Stopping is never throttled.
    expect((await dave.api.post(`/mirror/api/groups/${groupId}/chat/typing/stop`)).status).toBe(200);
  });
});

describe('signing in', () => {
  const login = (body: Record<string, string>) => new RestClient(server.url).post('/mirror/api/auth/login', body);

  it('allows RATE_LIMIT_LOGINS_PER_HOUR attempts an hour per account, right or wrong, then refuses even the right password', async () => {
    const [henry, iris] = [await register('henry'), await register('iris')];
    // By name or by email, the attempts are the account's.
    expect((await login({ username: henry.username, password: 'a wrong guess' })).status).toBe(401);
    expect((await login({ email: `${henry.username}@example.test`, password: 'another guess' })).status).toBe(401);
    const third = await login({ username: henry.username, password: 'correct horse battery' });
    expect(third.status).toBe(200);
    expect(limitHeaders(third)).toEqual({ limit: '3', remaining: '0' });

    const refused = await login({ username: henry.username, password: 'correct horse battery' });
    expectRefused(refused, 3, 3600);
    expect(refused.body.error.message).toBe('Too many sign-in attempts. Please wait before trying again.');

    // Another account is counted apart, and a name no account has is counted too, without saying whether it exists.
    expect((await login({ username: iris.username, password: 'correct horse battery' })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await login({ username: 'nobody_at_all', password: 'a guess' })).status).toBe(401);
    expectRefused(await login({ username: 'nobody_at_all', password: 'a guess' }), 3, 3600);
  });
});

describe('over WebSocket', () => {
  it('handles 10 frames a second per user; the rest get RATE_LIMITED with their requestId and are not handled', async () => {
    const erin = await register('erin');
    const groupId = await groupWith(erin);
    const socket = await connect(erin);
    const ids = Array.from({ length: 15 }, (_, i) => `send-${i}`);
    for (const requestId of ids) socket.send({ type: 'chat:send_message', payload: { groupId, content: requestId }, requestId });

    const answers = new Map<string, string>();
    while (answers.size < ids.length) {
      const frame = await socket.next((f) => f.type === 'chat:message_sent' || f.type === 'error');
      if (frame.type === 'error') {
        expect(frame.payload).toMatchObject({ code: 'RATE_LIMITED', message: 'Too many frames. Please slow down.', details: { retryAfter: 1 } });
        expect(frame.payload.requestId).toBe(frame.requestId);
      }
      answers.set(frame.requestId!, frame.type);
    }
    // The first ten are a burst the limit allows whatever the timing; fifteen at once cannot all pass.
    expect(ids.slice(0, 10).map((id) => answers.get(id))).toEqual(Array(10).fill('chat:message_sent'));
    const sent = ids.filter((id) => answers.get(id) === 'chat:message_sent');
    expect(sent.length).toBeLessThan(15);

    const listed = await erin.api.get(`/mirror/api/groups/${groupId}/chat/messages?limit=100`);
    expect(listed.body.data.messages.map((m: any) => m.content).sort()).toEqual([...sent].sort());
    expect(socket.closed).toBeUndefined();
  });

  it("counts every socket of a user together, and no one else's", async () => {
    const [frank, grace] = [await register('frank'), await register('grace')];
    const [one, two, other] = [await connect(frank), await connect(frank), await connect(grace)];
    for (let i = 0; i < 8; i++) {
      one.send({ type: 'ping', requestId: `one-${i}` });
      two.send({ type: 'ping', requestId: `two-${i}` });
      other.send({ type: 'ping', requestId: `other-${i}` });
    }
    const answered = async (socket: ChatSocket, prefix: string) => {
      const types: string[] = [];
      for (let i = 0; i < 8; i++) types.push((await socket.next((f) => f.requestId === `${prefix}-${i}`)).type);
      return types;
    };
    const [first, second, third] = [await answered(one, 'one'), await answered(two, 'two'), await answered(other, 'other')];
    expect([...first, ...second].filter((t) => t === 'error').length).toBeGreaterThan(0);
    expect(third).toEqual(Array(8).fill('pong'));
  });
});
