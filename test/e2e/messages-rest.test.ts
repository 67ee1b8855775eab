import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupWith, registerUser, RestClient, type TestUser } from '../support/client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let now = Date.now();
let alice: TestUser;
let bob: TestUser;
let eve: TestUser;
let groupId: string;
const messages = (g = groupId) => `/mirror/api/groups/${g}/chat/messages`;

beforeAll(async () => {
  server = await startTestServer({ clock: () => new Date(now) });
  [alice, bob, eve] = await Promise.all([registerUser(server.url, 'alice'), registerUser(server.url, 'bob'), registerUser(server.url, 'eve')]);
  groupId = await groupWith(alice, [bob]);
});
afterAll(() => server?.stop());

describe('sending and reading', () => {
  it('answers a send with the stored message, and the next GET shows it', async () => {
    const sent = await bob.api.post(messages(), { content: 'Hello **team**', clientMessageId: 'c-hello' });
    expect(sent.status).toBe(201);
    expect(sent.body.success).toBe(true);
    const message = sent.body.data.message;
    expect(message).toMatchObject({
      groupId,
      senderUserId: bob.id,
      senderUsername: bob.username,
      content: 'Hello **team**',
      contentType: 'text',
      status: 'sent',
      isEdited: false,
      isDeleted: false,
      clientMessageId: 'c-hello',
      parentMessageId: null,
    });
    expect(typeof message.id).toBe('string');
    expect(Date.parse(message.createdAt)).not.toBeNaN();

    const listed = await alice.api.get(messages());
    expect(listed.status).toBe(200);
    expect(listed.body.data.messages.map((m: any) => m.id)).toContain(message.id);
  });

  it('answers a retry with the same clientMessageId with the original message and stores nothing new', async () => {
    const first = await bob.api.post(messages(), { content: 'once', clientMessageId: 'c-retry' });
    const again = await bob.api.post(messages(), { content: 'once', clientMessageId: 'c-retry' });
    expect(again.status).toBe(200);
    expect(again.body.data.message.id).toBe(first.body.data.message.id);
    const listed = await alice.api.get(`${messages()}?limit=100`);
    expect(listed.body.data.messages.filter((m: any) => m.clientMessageId === 'c-retry')).toHaveLength(1);
  });

  it('keeps every one of many concurrent sends, in one order for everyone', async () => {
    const group = await groupWith(alice, [bob], 'busy');
    const sends = Array.from({ length: 30 }, (_, i) => (i % 2 ? alice : bob).api.post(messages(group), { content: `n${i}` }));
    const answers = await Promise.all(sends);
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const listed = await alice.api.get(`${messages(group)}?limit=100`);
    const contents = listed.body.data.messages.map((m: any) => m.content);
    expect(contents.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `n${i}`).sort());
    const viaBob = await bob.api.get(`${messages(group)}?limit=100`);
    expect(viaBob.body.data.messages.map((m: any) => m.id)).toEqual(listed.body.data.messages.map((m: any) => m.id));
  });
});

describe('paging', () => {
  it('pages backwards and forwards with cursors, oldest first inside a page', async () => {
    const group = await groupWith(alice, [bob], 'paging');
    for (let i = 0; i < 7; i++) await alice.api.post(messages(group), { content: `p${i}` });

    const newest = await bob.api.get(`${messages(group)}?limit=3`);
    expect(newest.body.data.messages.map((m: any) => m.content)).toEqual(['p4', 'p5', 'p6']);
    expect(newest.body.data.pagination.hasMore).toBe(true);

    const older = await bob.api.get(`${messages(group)}?limit=3&direction=before&cursor=${newest.body.data.pagination.nextCursor}`);
    expect(older.body.data.messages.map((m: any) => m.content)).toEqual(['p1', 'p2', 'p3']);
    expect(older.body.data.pagination.hasMore).toBe(true);

    const oldest = await bob.api.get(`${messages(group)}?limit=3&cursor=${older.body.data.pagination.nextCursor}`);
    expect(oldest.body.data.messages.map((m: any) => m.content)).toEqual(['p0']);
    expect(oldest.body.data.pagination).toMatchObject({ hasMore: false, nextCursor: null });

    const forward = await bob.api.get(`${messages(group)}?limit=4&direction=after&cursor=${oldest.body.data.messages[0].id}`);
    expect(forward.body.data.messages.map((m: any) => m.content)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(forward.body.data.pagination.hasMore).toBe(true);
  });

  it('uses 50 as the default page size and refuses more than 100', async () => {
    const tooMany = await bob.api.get(`${messages()}?limit=101`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe('VALIDATION_ERROR');
    expect(tooMany.body.error.details.fields[0].field).toBe('limit');
  });

  it('answers NOT_FOUND for a cursor that is not a message of the group', async () => {
    const other = await groupWith(alice, [], 'other');
    const foreign = await alice.api.post(messages(other), { content: 'elsewhere' });
    const answer = await alice.api.get(`${messages()}?cursor=${foreign.body.data.message.id}`);
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
  });
});

describe('editing and deleting', () => {
  it('lets the sender edit, and marks the message edited', async () => {
    const sent = await bob.api.post(messages(), { content: 'tpyo' });
    const id = sent.body.data.message.id;
    const edited = await bob.api.put(`${messages()}/${id}`, { content: 'typo' });
    expect(edited.status).toBe(200);
    expect(edited.body.data.message).toMatchObject({ id, content: 'typo', isEdited: true });
    expect(edited.body.data.message.editedAt).toBeTruthy();
    const listed = await alice.api.get(messages());
    expect(listed.body.data.messages.find((m: any) => m.id === id).content).toBe('typo');
  });

  it('refuses to edit someone else’s message, and one older than 24 hours', async () => {
    const sent = await bob.api.post(messages(), { content: 'mine' });
    const id = sent.body.data.message.id;
    const byAlice = await alice.api.put(`${messages()}/${id}`, { content: 'hijack' });
    expect(byAlice.status).toBe(403);
    expect(byAlice.body.error.code).toBe('FORBIDDEN');

    now += 25 * 3600_000;
    const late = await bob.api.put(`${messages()}/${id}`, { content: 'too late' });
    expect(late.body.error.code).toBe('MESSAGE_TOO_OLD');
    const listed = await alice.api.get(messages());
    expect(listed.body.data.messages.find((m: any) => m.id === id).content).toBe('mine');
  });

  it('soft-deletes: the message stays in history, marked deleted, its text gone', async () => {
    const sent = await bob.api.post(messages(), { content: 'regret' });
    const id = sent.body.data.message.id;
    const deleted = await bob.api.delete(`${messages()}/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data.message).toMatchObject({ id, isDeleted: true, content: '' });
    const listed = await alice.api.get(messages());
    expect(listed.body.data.messages.find((m: any) => m.id === id)).toMatchObject({ isDeleted: true, content: '' });
    const edit = await bob.api.put(`${messages()}/${id}`, { content: 'back' });
    expect(edit.body.error.code).toBe('NOT_FOUND');
  });

  it('lets the group owner delete any message, but not another member', async () => {
    const sent = await bob.api.post(messages(), { content: 'moderate me' });
    const id = sent.body.data.message.id;
    expect((await eve.api.delete(`${messages()}/${id}`)).body.error.code).toBe('FORBIDDEN');
    const byOwner = await alice.api.delete(`${messages()}/${id}`);
    expect(byOwner.body.data.message).toMatchObject({ isDeleted: true });
  });
});

describe('who may do what', () => {
  it('keeps non-members out with FORBIDDEN', async () => {
    expect((await eve.api.get(messages())).body.error.code).toBe('FORBIDDEN');
    expect((await eve.api.post(messages(), { content: 'let me in' })).status).toBe(403);
  });

  it('answers NOT_FOUND for a group that does not exist', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await alice.api.get(messages(missing))).status).toBe(404);
    expect((await alice.api.post(messages(missing), { content: 'x' })).body.error.code).toBe('NOT_FOUND');
  });

  it('answers UNAUTHORIZED without a token or with a bad one', async () => {
    const anonymous = new RestClient(server.url);
    const none = await anonymous.get(messages());
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ success: false, error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    anonymous.token = alice.token.slice(0, -2) + 'xx';
    expect((await anonymous.get(messages())).body.error.code).toBe('UNAUTHORIZED');
  });
});

describe('bad input', () => {
  const badBodies: Array<[string, unknown, string]> = [
    ['no content', {}, 'content'],
    ['empty content', { content: '   ' }, 'content'],
    ['content over 10000 characters', { content: 'x'.repeat(10_001) }, 'content'],
    ['unknown contentType', { content: 'x', contentType: 'video' }, 'contentType'],
    ['a forged system message', { content: 'x', contentType: 'system' }, 'contentType'],
    ['a parent that is not an id', { content: 'x', parentMessageId: 'abc' }, 'parentMessageId'],
    ['a field the guide does not define', { content: 'x', senderUserId: 1 }, 'body'],
    ['content of the wrong type', { content: 42 }, 'content'],
  ];

  it.each(badBodies)('answers VALIDATION_ERROR naming the field for %s', async (_name, body, field) => {
    const answer = await bob.api.post(messages(), body);
    expect(answer.status).toBe(400);
    expect(answer.body.success).toBe(false);
    expect(answer.body.error.code).toBe('VALIDATION_ERROR');
    expect(answer.body.error.details.fields.map((f: any) => f.field)).toContain(field);
  });

  it('accepts exactly 10000 characters, counting emoji as one', async () => {
    const answer = await bob.api.post(messages(), { content: '😀'.repeat(10_000) });
    expect(answer.status).toBe(201);
  });

  it('answers malformed JSON with VALIDATION_ERROR, not a 500 or a stack trace', async () => {
    const answer = await bob.api.call('POST', messages(), '{"content": ');
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_ERROR');
    expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('answers an unknown route with the envelope', async () => {
    const answer = await bob.api.get('/mirror/api/nothing-here');
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
  });

  it('leaves stored messages untouched by rejected commands', async () => {
    const before = await alice.api.get(`${messages()}?limit=100`);
    await bob.api.put(`${messages()}/${before.body.data.messages[0].id}`, { content: '' });
    await eve.api.delete(`${messages()}/${before.body.data.messages[0].id}`);
    const after = await alice.api.get(`${messages()}?limit=100`);
    expect(after.body.data.messages).toEqual(before.body.data.messages);
  });
});
