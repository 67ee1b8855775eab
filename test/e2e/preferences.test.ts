/** Each member's notification preferences for a group: defaults, partial updates, and who may read or change them. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatSocket, groupWith, registerUser, type TestUser } from '../support/client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let eve: TestUser;
let groupId: string;
const sockets: ChatSocket[] = [];
const path = (g = groupId) => `/mirror/api/groups/${g}/chat/preferences`;

beforeAll(async () => {
  server = await startTestServer();
  [alice, bob, carol, eve] = await Promise.all([
    registerUser(server.url, 'alice'),
    registerUser(server.url, 'bob'),
    registerUser(server.url, 'carol'),
    registerUser(server.url, 'eve'),
  ]);
  groupId = await groupWith(alice, [bob, carol]);
});
afterAll(async () => {
  sockets.forEach((s) => s.close());
  await server?.stop();
});

describe('preferences', () => {
  it('start as not muted, notified of every message', async () => {
    const answer = await carol.api.get(path());
    expect(answer).toMatchObject({ status: 200, body: { success: true, data: { preferences: { muted: false, notifyLevel: 'all' } } } });
  });

  it('change by partial updates, shown by the answer and the next GET, for that member only', async () => {
    const [a, c] = await Promise.all([ChatSocket.open(server.wsUrl, alice.token), ChatSocket.open(server.wsUrl, carol.token)]);
    sockets.push(a, c);
    await Promise.all([a.join(groupId), c.join(groupId)]);

    const muted = await bob.api.put(path(), { muted: true });
    expect(muted).toMatchObject({ status: 200, body: { success: true, data: { preferences: { muted: true, notifyLevel: 'all' } } } });
    const mentions = await bob.api.put(path(), { notifyLevel: 'mentions' });
    expect(mentions.body.data.preferences).toEqual({ muted: true, notifyLevel: 'mentions' });
    expect((await bob.api.get(path())).body.data.preferences).toEqual({ muted: true, notifyLevel: 'mentions' });

    const both = await bob.api.put(path(), { muted: false, notifyLevel: 'none' });
    expect(both.body.data.preferences).toEqual({ muted: false, notifyLevel: 'none' });
    const unchanged = await bob.api.put(path(), { notifyLevel: 'none' });
    expect(unchanged).toMatchObject({ status: 200, body: { data: { preferences: { muted: false, notifyLevel: 'none' } } } });
    expect((await bob.api.get(path())).body.data.preferences).toEqual({ muted: false, notifyLevel: 'none' });

    // Someone else's preferences are theirs alone: other members neither share them nor hear of them.
    expect((await alice.api.get(path())).body.data.preferences).toEqual({ muted: false, notifyLevel: 'all' });
    await a.settle();
    await c.settle();
    const noise = (frames: { type: string }[]) => frames.filter((f) => f.type !== 'chat:presence' && f.type !== 'pong');
    expect(noise(a.frames)).toEqual([]);
    expect(noise(c.frames)).toEqual([]);
  });

  it('are kept per group', async () => {
    const other = await groupWith(alice, [bob], 'Other');
    await bob.api.put(path(other), { muted: true });
    expect((await bob.api.get(path(other))).body.data.preferences.muted).toBe(true);
    expect((await bob.api.get(path())).body.data.preferences.muted).toBe(false);
  });

  it('refuse bodies that change nothing or are not preferences', async () => {
    for (const body of [{}, { muted: 'yes' }, { notifyLevel: 'loud' }, { muted: true, sound: 'ding' }]) {
      const answer = await carol.api.put(path(), body);
      expect(answer).toMatchObject({ status: 400, body: { success: false, error: { code: 'VALIDATION_ERROR' } } });
    }
    expect((await carol.api.get(path())).body.data.preferences).toEqual({ muted: false, notifyLevel: 'all' });
  });

  it('are for members only', async () => {
    expect((await eve.api.get(path())).body.error.code).toBe('FORBIDDEN');
    expect((await eve.api.put(path(), { muted: true })).body.error.code).toBe('FORBIDDEN');
    expect((await eve.api.get(path(randomUUID()))).body.error.code).toBe('NOT_FOUND');
    expect((await eve.api.put(path(randomUUID()), { muted: true })).body.error.code).toBe('NOT_FOUND');
  });
});
