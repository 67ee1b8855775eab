import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/domain/errors.js';
import { groupStreamId } from '../../../src/infra/crypto/event-sealing.js';
import { sqlFlavor } from '../../../src/infra/sql/dialect.js';
import { getMessage, listMessages } from '../../../src/projections/queries/messages.js';
import { append, messageSent, useProjectedReadSide, seedGroup, seedUser, untilProjected, type ReadSide } from '../../support/read-side.js';

let side: ReadSide;
useProjectedReadSide((opened) => (side = opened));

/** Sends messages one append each, so each has a revision of its own, and waits until they are projected. */
async function sendAll(groupId: string, senderUserId: number, contents: string[]): Promise<string[]> {
  const ids = [];
  let position = '';
  for (const content of contents) {
    const event = messageSent(groupId, senderUserId, content);
    ({ position } = await append(side, groupStreamId(groupId), [event]));
    ids.push(event.data.messageId);
  }
  await untilProjected(side, position);
  return ids;
}

describe('message history', () => {
  let groupId: string;
  let ids: string[];
  let alice: { userId: number; username: string };
  beforeAll(async () => {
    alice = await seedUser(side, 'alice');
    ({ groupId } = await seedGroup(side, alice.userId));
    ids = await sendAll(groupId, alice.userId, ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  });

  const page = async (cursor: string | null, direction: 'before' | 'after', limit = 3) => {
    const { messages, pagination } = await listMessages(side, { groupId, cursor, direction, limit, viewerId: alice.userId });
    return { contents: messages.map((m) => m.content), pagination };
  };
  const id = (n: number) => ids[n - 1]!;

  it('shows a message as the guide describes it', async () => {
    const message = await getMessage(side, groupId, id(1), alice.userId);
    expect(message).toEqual({
      id: id(1),
      groupId,
      senderUserId: alice.userId,
      senderUsername: alice.username,
      content: 'm1',
      contentType: 'text',
      parentMessageId: null,
      threadRootId: null,
      threadReplyCount: 0,
      metadata: {},
      status: 'sent',
      isEdited: false,
      editedAt: null,
      isDeleted: false,
      deletedAt: null,
      encryptionKeyId: null,
      clientMessageId: null,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      reactions: [],
      readBy: [],
    });
    expect(await getMessage(side, groupId, 'no-such-message', alice.userId)).toBeNull();
  });

  it('pages backwards from the newest message, oldest first within each page', async () => {
    expect(await page(null, 'before')).toEqual({
      contents: ['m5', 'm6', 'm7'],
      pagination: { hasMore: true, nextCursor: id(5), prevCursor: id(7) },
    });
    expect(await page(id(5), 'before')).toEqual({
      contents: ['m2', 'm3', 'm4'],
      pagination: { hasMore: true, nextCursor: id(2), prevCursor: id(4) },
    });
    expect(await page(id(2), 'before')).toEqual({
      contents: ['m1'],
      pagination: { hasMore: false, nextCursor: null, prevCursor: id(1) },
    });
    expect(await page(id(1), 'before')).toEqual({
      contents: [],
      pagination: { hasMore: false, nextCursor: null, prevCursor: null },
    });
  });

  it('pages forwards from a cursor, or from the oldest message without one', async () => {
    expect(await page(id(1), 'after')).toEqual({
      contents: ['m2', 'm3', 'm4'],
      pagination: { hasMore: true, nextCursor: id(4), prevCursor: id(2) },
    });
    expect(await page(id(4), 'after')).toEqual({
      contents: ['m5', 'm6', 'm7'],
      pagination: { hasMore: false, nextCursor: null, prevCursor: id(5) },
    });
    expect(await page(null, 'after', 2)).toEqual({
      contents: ['m1', 'm2'],
      pagination: { hasMore: true, nextCursor: id(2), prevCursor: id(1) },
    });
    expect(await page(id(7), 'after')).toEqual({
      contents: [],
      pagination: { hasMore: false, nextCursor: null, prevCursor: null },
    });
  });

  it('answers NOT_FOUND for a cursor that is no message of the group', async () => {
    const { groupId: otherGroup } = await seedGroup(side, alice.userId);
    const [elsewhere] = await sendAll(otherGroup, alice.userId, ['elsewhere']);
    for (const cursor of ['no-such-message', elsewhere!]) {
      const listing = listMessages(side, { groupId, cursor, direction: 'before', limit: 10, viewerId: alice.userId });
      await expect(listing).rejects.toBeInstanceOf(DomainError);
      await expect(listing).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
  });
});

describe('edits, deletions and threads', () => {
  it('reflects them in what readers see', async () => {
    const alice = await seedUser(side, 'alice');
    const bob = await seedUser(side, 'bob');
    const { groupId } = await seedGroup(side, alice.userId, [bob.userId]);
    const stream = groupStreamId(groupId);
    const mentions = [{ userId: bob.userId, username: bob.username, startIndex: 0, endIndex: 4, type: 'user' as const }];
    const root = messageSent(groupId, alice.userId, 'root');
    const threadOf = (content: string) =>
      messageSent(groupId, bob.userId, content, { parentMessageId: root.data.messageId, threadRootId: root.data.messageId, metadata: { mentions } });
    const [first, second] = [threadOf('first reply'), threadOf('second reply')];
    await append(side, stream, [root, first, second]);
    const at = new Date().toISOString();
    const { position } = await append(side, stream, [
      { type: 'MessageEdited', data: { groupId, messageId: first.data.messageId, content: 'first reply, edited', editedBy: bob.userId, editedAt: at } },
      { type: 'MessageDeleted', data: { groupId, messageId: root.data.messageId, deletedBy: alice.userId, deletedAt: at } },
    ]);
    await untilProjected(side, position);

    expect(await getMessage(side, groupId, root.data.messageId, bob.userId)).toMatchObject({
      content: '',
      metadata: {},
      isDeleted: true,
      deletedAt: at,
      updatedAt: at,
      threadReplyCount: 2,
    });
    expect(await getMessage(side, groupId, first.data.messageId, bob.userId)).toMatchObject({
      content: 'first reply, edited',
      metadata: { mentions },
      isEdited: true,
      editedAt: at,
      parentMessageId: root.data.messageId,
      threadRootId: root.data.messageId,
    });
    expect(await getMessage(side, groupId, second.data.messageId, bob.userId)).toMatchObject({ content: 'second reply', isEdited: false });
  });
});

describe('encryption at rest', () => {
  it('keeps no message text or metadata in plaintext anywhere in the read database', async () => {
    const marker = `secret-${Date.now().toString(36)}`;
    const alice = await seedUser(side, 'alice');
    const { groupId } = await seedGroup(side, alice.userId);
    const sent = messageSent(groupId, alice.userId, `${marker}-content`, {
      metadata: { custom: { note: `${marker}-metadata` } },
    });
    await append(side, groupStreamId(groupId), [sent]);
    const { position } = await append(side, groupStreamId(groupId), [
      {
        type: 'MessageEdited',
        data: { groupId, messageId: sent.data.messageId, content: `${marker}-edited`, editedBy: alice.userId, editedAt: new Date().toISOString() },
      },
    ]);
    await untilProjected(side, position);
    expect((await getMessage(side, groupId, sent.data.messageId, alice.userId))?.content).toBe(`${marker}-edited`);

    const schema = sqlFlavor(side.db) === 'mysql' ? sql`database()` : sql`current_schema()`;
    const { rows: tables } = await sql<{ name: string }>`
      select table_name as name from information_schema.tables where table_schema = ${schema}`.execute(side.db);
    expect(tables.map((t) => t.name)).toContain('mirror_group_messages');
    for (const { name } of tables) {
      const { rows } = await sql`select * from ${sql.table(name)}`.execute(side.db);
      // Binary columns are searched byte for byte, text columns as text.
      const dump = JSON.stringify(rows, (_key, value) =>
        value?.type === 'Buffer' || value instanceof Uint8Array ? Buffer.from(value.data ?? value).toString('latin1') : value,
      );
      expect(dump, `table ${name}`).not.toContain(marker);
    }
  });
});
