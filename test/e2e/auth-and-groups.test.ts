import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupWith, registerUser, RestClient, type TestUser } from '../support/client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let anonymous: RestClient;

beforeAll(async () => {
  server = await startTestServer();
  anonymous = new RestClient(server.url);
});
afterAll(() => server?.stop());

describe('accounts', () => {
  it('registers, then logs in by username or by email', async () => {
    const registered = await anonymous.post('/mirror/api/auth/register', { username: 'Carol_1', email: 'carol@example.test', password: 'a long passphrase' });
    expect(registered.status).toBe(201);
    expect(registered.body.data).toMatchObject({
      token: expect.any(String),
      user: { id: expect.any(Number), username: 'Carol_1', email: 'carol@example.test' },
      expiresAt: expect.any(String),
    });
    const byName = await anonymous.post('/mirror/api/auth/login', { username: 'carol_1', password: 'a long passphrase' });
    expect(byName.status).toBe(200);
    expect(byName.body.data.user.id).toBe(registered.body.data.user.id);
    const byEmail = await anonymous.post('/mirror/api/auth/login', { email: 'CAROL@example.test', password: 'a long passphrase' });
    expect(byEmail.body.data.user.id).toBe(registered.body.data.user.id);
  });

  it('issues tokens carrying the guide’s payload', async () => {
    const user = await registerUser(server.url, 'payload');
    const payload = JSON.parse(Buffer.from(user.token.split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({ id: user.id, username: user.username, email: expect.any(String), sessionId: expect.any(String) });
    expect(payload.exp).toBeGreaterThan(payload.iat);
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    await registerUser(server.url, 'dave');
    const wrong = await anonymous.post('/mirror/api/auth/login', { username: 'nobody_here', password: 'whatever123' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('UNAUTHORIZED');
  });

  it('refuses a taken username or email, whatever its case', async () => {
    const first = await registerUser(server.url, 'erin');
    const again = await anonymous.post('/mirror/api/auth/register', { username: first.username.toUpperCase(), email: 'new@example.test', password: 'another passphrase' });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('VALIDATION_ERROR');
    expect(again.body.error.details.fields).toEqual([{ field: 'username', message: 'is already taken' }]);
  });

  it('gives each of many concurrent registrations its own id', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, (_, i) => registerUser(server.url, `many${i}`)));
    expect(new Set(users.map((u) => u.id)).size).toBe(12);
  });

  it('reserves the username everyone, which mentions use for the whole group', async () => {
    const answer = await anonymous.post('/mirror/api/auth/register', { username: 'Everyone', email: 'all@example.test', password: 'a long passphrase' });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields).toEqual([{ field: 'username', message: 'is reserved' }]);
  });

  it('lists every invalid field of a registration', async () => {
    const answer = await anonymous.post('/mirror/api/auth/register', { username: 'a', email: 'not-an-email', password: 'short' });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields.map((f: any) => f.field).sort()).toEqual(['email', 'password', 'username']);
  });
});

describe('groups and members', () => {
  let owner: TestUser;
  let member: TestUser;
  let outsider: TestUser;
  beforeAll(async () => {
    [owner, member, outsider] = await Promise.all([registerUser(server.url, 'own'), registerUser(server.url, 'mem'), registerUser(server.url, 'out')]);
  });

  it('makes the creator owner and shows the group to its members only', async () => {
    const groupId = await groupWith(owner, [member], 'Design');
    const seen = await member.api.get(`/mirror/api/groups/${groupId}`);
    expect(seen.status).toBe(200);
    expect(seen.body.data.group).toMatchObject({ id: groupId, name: 'Design' });
    const roles = Object.fromEntries(seen.body.data.group.members.map((m: any) => [m.userId, m.role]));
    expect(roles).toEqual({ [owner.id]: 'owner', [member.id]: 'member' });
    expect((await outsider.api.get(`/mirror/api/groups/${groupId}`)).body.error.code).toBe('FORBIDDEN');

    const mine = await member.api.get('/mirror/api/groups');
    expect(mine.body.data.groups.map((g: any) => g.id)).toContain(groupId);
    const theirs = await outsider.api.get('/mirror/api/groups');
    expect(theirs.body.data.groups.map((g: any) => g.id)).not.toContain(groupId);
  });

  it('lets only the owner or an admin add members, and only existing users', async () => {
    const groupId = await groupWith(owner, [member]);
    const byMember = await member.api.post(`/mirror/api/groups/${groupId}/members`, { userId: outsider.id });
    expect(byMember.body.error.code).toBe('FORBIDDEN');
    const ghost = await owner.api.post(`/mirror/api/groups/${groupId}/members`, { userId: 999_999 });
    expect(ghost.status).toBe(404);
  });

  it('removes a member, who then cannot read the group; a member may leave', async () => {
    const groupId = await groupWith(owner, [member, outsider]);
    const removed = await owner.api.delete(`/mirror/api/groups/${groupId}/members/${member.id}`);
    expect(removed.status).toBe(200);
    expect((await member.api.get(`/mirror/api/groups/${groupId}/chat/messages`)).body.error.code).toBe('FORBIDDEN');
    const left = await outsider.api.delete(`/mirror/api/groups/${groupId}/members/${outsider.id}`);
    expect(left.status).toBe(200);
    expect((await owner.api.delete(`/mirror/api/groups/${groupId}/members/${owner.id}`)).body.error.code).toBe('FORBIDDEN');
  });

  it('validates group input', async () => {
    expect((await owner.api.post('/mirror/api/groups', { name: '' })).body.error.details.fields[0].field).toBe('name');
    expect((await owner.api.get('/mirror/api/groups/not-a-uuid')).body.error.details.fields[0].field).toBe('groupId');
  });
});

describe('operations', () => {
  it('answers /health and /ready', async () => {
    expect((await anonymous.get('/health')).status).toBe(200);
    const ready = await anonymous.get('/ready');
    expect(ready.status).toBe(200);
    expect(Object.values(ready.body.data.checks).every(Boolean)).toBe(true);
  });
});
