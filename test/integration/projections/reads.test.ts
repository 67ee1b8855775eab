/**
 * The reads projection: receipts recorded once, `chat:message_read` with only what is newly read, and unread counters
 * that stay exactly what their definition counts through any mix of sends, reads, deletes, edits, joins and leaves.
 */
import { describe, expect, it } from 'vitest';
import type { Commands } from '../../../src/commands/index.js';
import type { MentionInfo } from '../../../src/domain/messages.js';
import type { Broadcast } from '../../../src/projections/broadcasts.js';
import { groupStreamId, openEvent } from '../../../src/infra/crypto/event-sealing.js';
import { mentionsProjection } from '../../../src/projections/mentions.js';
import type { ChatEvent } from '../../../src/projections/projector.js';
import { listGroupsOf } from '../../../src/projections/queries/groups.js';
import { unreadCounts } from '../../../src/projections/queries/reads.js';
import { readsProjection } from '../../../src/projections/reads.js';
import type { ReadDb } from '../../../src/projections/schema.js';
import { recordStreamRevisions, trackStreamRevisions } from '../../../src/projections/stream-revisions.js';
import { eventually, listen, seedUser, useProjectedReadSide, type ReadSide } from '../../support/read-side.js';
import { bruteForceCounters, commandsOn, groupChat, mentionRows, storedCounters, type User } from '../../support/unread-counts.js';

let side: ReadSide;
let commands: Commands;
useProjectedReadSide((opened) => {
  side = opened;
  commands = commandsOn(side);
});

const chatOf = (owner: User, members: User[]) => groupChat(side, commands, owner, members);

const readFrames = (heard: Broadcast[], groupId: string) =>
  heard.flatMap((b) => (b.kind === 'group' && b.groupId === groupId && b.frame.type === 'chat:message_read' ? [b.frame.payload] : []));

describe('read receipts', () => {
  it('records a read once and tells the group only what is newly read', async () => {
    const [ann, ben, cat] = [await seedUser(side, 'ann'), await seedUser(side, 'ben'), await seedUser(side, 'cat')];
    const chat = await chatOf(ann, [ben, cat]);
    const heard = await listen(side);
    const [m1, m2, m3] = [await chat.send(ann, 'one'), await chat.send(ann, 'two'), await chat.send(cat, 'three')];
    expect((await chat.counters()).members[ben.userId]).toEqual([3, 0]);

    await chat.read(ben, [m1!, m2!]);
    await chat.read(ben, [m1!, m2!, m3!]);
    await chat.read(ben, [m2!]);
    const marker = await chat.send(ann, 'marker');
    await chat.settled();
    await eventually(() => heard.some((b) => b.kind === 'group' && b.frame.type === 'chat:message' && b.frame.payload.message.id === marker));

    const frames = readFrames(heard, chat.groupId);
    expect(frames.map((f) => f.messageIds)).toEqual([[m1, m2], [m3]]);
    expect(frames.every((f) => f.userId === ben.userId && f.groupId === chat.groupId && !Number.isNaN(Date.parse(f.readAt)))).toBe(true);

    const rows = await (side.db as ReadDb)
      .selectFrom('mirror_group_message_reads')
      .select(['message_id', 'read_at'])
      .where('user_id', '=', ben.userId)
      .where('group_id', '=', chat.groupId)
      .execute();
    expect(rows).toHaveLength(3);
    // The first read is the one kept.
    expect(rows.find((r) => r.message_id === m2)!.read_at.toISOString()).toBe(frames[0]!.readAt);
    expect(await unreadCounts(side, chat.groupId, ben.userId)).toEqual({ unreadCount: 1, unreadMentionCount: 0 });
  });

  it('counts nothing for a read of only one’s own messages', async () => {
    const [ann, ben] = [await seedUser(side, 'ann'), await seedUser(side, 'ben')];
    const chat = await chatOf(ann, [ben]);
    const own = await chat.send(ann, 'mine');
    await chat.send(ben, 'yours');
    expect((await chat.read(ann, [own])).position).toBeNull();
    expect(await chat.counters()).toEqual({ live: 2, members: { [ann.userId]: [1, 0], [ben.userId]: [1, 0] } });
  });
});

describe('unread counters', () => {
  it('takes a deleted message off the count of each member who had not read it, and off the live count', async () => {
    const [ann, ben, cat] = [await seedUser(side, 'ann'), await seedUser(side, 'ben'), await seedUser(side, 'cat')];
    const chat = await chatOf(ann, [ben, cat]);
    const [m1, m2] = [await chat.send(ann, 'one'), await chat.send(ben, 'two')];
    await chat.read(ben, [m1]);
    expect(await chat.counters()).toEqual({ live: 2, members: { [ann.userId]: [1, 0], [ben.userId]: [0, 0], [cat.userId]: [2, 0] } });
    await chat.delete(ann, m1);
    expect(await chat.counters()).toEqual({ live: 1, members: { [ann.userId]: [1, 0], [ben.userId]: [0, 0], [cat.userId]: [1, 0] } });
    await chat.delete(ben, m2);
    expect(await chat.counters()).toEqual({ live: 0, members: { [ann.userId]: [0, 0], [ben.userId]: [0, 0], [cat.userId]: [0, 0] } });
  });

  it('starts a new member at the live count, and a returning one without what they sent or read', async () => {
    const [ann, ben, cat] = [await seedUser(side, 'ann'), await seedUser(side, 'ben'), await seedUser(side, 'cat')];
    const chat = await chatOf(ann, [ben]);
    const m1 = await chat.send(ann, 'one');
    await chat.send(ben, 'two');
    const m3 = await chat.send(ann, 'three');
    await chat.delete(ann, m3);
    await chat.add(cat);
    expect((await chat.counters()).members[cat.userId]).toEqual([2, 0]);

    await chat.read(ben, [m1]);
    await chat.send(ben, 'four');
    await chat.remove(ben);
    await chat.send(ann, 'while ben is away');
    expect((await chat.counters()).members[ben.userId]).toBeUndefined();
    await chat.add(ben);
    // Live: one, two, four, away. Ben sent two and four, and read one.
    expect((await chat.counters()).members[ben.userId]).toEqual([1, 0]);
    expect(await storedCounters(side, chat.groupId)).toEqual(await bruteForceCounters(side, chat.groupId));
  });

  it('lists each group with the member’s own counts', async () => {
    const [ann, ben] = [await seedUser(side, 'ann'), await seedUser(side, 'ben')];
    const chat = await chatOf(ann, [ben]);
    await chat.send(ann, `hi @${ben.username}`);
    await chat.send(ann, 'and more');
    await chat.settled();
    const [group] = await listGroupsOf(side, ben.userId);
    expect(group).toMatchObject({ id: chat.groupId, unreadCount: 2, unreadMentionCount: 1 });
    expect((await listGroupsOf(side, ann.userId))[0]).toMatchObject({ id: chat.groupId, unreadCount: 0, unreadMentionCount: 0 });
  });

  it('change nothing when a group’s events are applied again, as after a checkpoint restored from an older backup', async () => {
    const [ann, ben, cat] = [await seedUser(side, 'ann'), await seedUser(side, 'ben'), await seedUser(side, 'cat')];
    const chat = await chatOf(ann, [ben]);
    const m1 = await chat.send(ann, `@everyone and @${ben.username}`);
    const m2 = await chat.send(ben, `hi @${ann.username}`);
    await chat.read(ben, [m1]);
    await chat.edit(ben, m2, 'hi all');
    await chat.add(cat);
    await chat.delete(ann, m1);
    await chat.send(cat, `@${ben.username}?`);
    const before = await chat.counters();
    const mentioned = await mentionRows(side, chat.groupId);

    const recorded = await side.eventStore.readStream(groupStreamId(chat.groupId));
    const events = await Promise.all(recorded.map(async (r) => ({ ...r, event: await openEvent<ChatEvent>(side.crypto, r) })));
    const replayed = [readsProjection, mentionsProjection];
    await (side.db as ReadDb).transaction().execute(async (trx) => {
      trackStreamRevisions(trx, replayed.map((p) => p.name));
      for (const { event, streamId, revision, position } of events) {
        for (const projection of replayed) await projection.apply(trx, { event, streamId, revision, position }, { crypto: side.crypto, usernames: new Map() });
      }
      await recordStreamRevisions(trx);
    });
    expect(await storedCounters(side, chat.groupId)).toEqual(before);
    expect(before).toEqual(await bruteForceCounters(side, chat.groupId));
    expect(await mentionRows(side, chat.groupId)).toEqual(mentioned);
  });

  it('match a count over the whole history after any mix of sends, reads, edits, deletes, joins and leaves', async () => {
    const users = [await seedUser(side, 'own')];
    for (let i = 0; i < 5; i++) users.push(await seedUser(side, `u${i}`));
    const owner = users[0]!;
    const chat = await chatOf(owner, users.slice(1, 4));
    const members = new Set(users.slice(0, 4).map((u) => u.userId));

    // The model: what each message is and whom it mentions now, by the rules of issue 3.
    const messages: Array<{ id: string; sender: number; deleted: boolean; mentioned: Record<number, string> }> = [];
    const reads = new Set<string>();
    let seed = 20260101;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
    const memberList = () => users.filter((u) => members.has(u.userId));

    /** A text naming some users (members or not) and maybe everyone, and whom it reaches from `sender`. */
    const compose = (sender: User) => {
      const named = users.filter(() => random() < 0.3);
      const everyone = random() < 0.15;
      const content = [`#${messages.length}`, ...named.map((u) => `@${u.username}`), ...(everyone ? ['@everyone'] : [])].join(' ');
      const mentioned: Record<number, string> = {};
      if (everyone) for (const id of members) if (id !== sender.userId) mentioned[id] = 'everyone';
      for (const u of named) if (members.has(u.userId) && u.userId !== sender.userId) mentioned[u.userId] = 'user';
      // Half the time the client marks the mentions itself, as the guide's clients do.
      const marked: MentionInfo[] = named
        .filter((u) => members.has(u.userId))
        .map((u) => ({ userId: u.userId, username: u.username, startIndex: content.indexOf(`@${u.username}`), endIndex: content.indexOf(`@${u.username}`) + u.username.length + 1, type: 'user' as const }));
      if (everyone) marked.push({ userId: 0, username: 'everyone', startIndex: content.indexOf('@everyone'), endIndex: content.length, type: 'everyone' });
      return { content, mentioned, metadata: random() < 0.5 ? { mentions: marked } : null };
    };

    const check = async () => {
      const stored = await chat.counters();
      expect(stored).toEqual(await bruteForceCounters(side, chat.groupId));
      const expected: typeof stored = { live: messages.filter((m) => !m.deleted).length, members: {} };
      for (const id of members) {
        const unread = messages.filter((m) => !m.deleted && m.sender !== id && !reads.has(`${m.id}:${id}`));
        expected.members[id] = [unread.length, unread.filter((m) => m.mentioned[id]).length];
      }
      expect(stored).toEqual(expected);
      const live = messages.filter((m) => !m.deleted && Object.keys(m.mentioned).length > 0);
      expect(await mentionRows(side, chat.groupId)).toEqual(Object.fromEntries(live.map((m) => [m.id, m.mentioned])));
    };

    for (let step = 1; step <= 160; step++) {
      const roll = random();
      const own = (m: (typeof messages)[number]) => !m.deleted && members.has(m.sender);
      if (roll < 0.4 || messages.length === 0) {
        const sender = pick(memberList());
        const { content, mentioned, metadata } = compose(sender);
        messages.push({ id: await chat.send(sender, content, metadata), sender: sender.userId, deleted: false, mentioned });
      } else if (roll < 0.65) {
        const reader = pick(memberList());
        const ids = [...new Set(Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick(messages)))];
        await chat.read(reader, ids.map((m) => m.id));
        for (const m of ids) if (!m.deleted && m.sender !== reader.userId) reads.add(`${m.id}:${reader.userId}`);
      } else if (roll < 0.75 && messages.some(own)) {
        const message = pick(messages.filter(own));
        await chat.delete(users.find((u) => u.userId === message.sender)!, message.id);
        message.deleted = true;
        message.mentioned = {};
      } else if (roll < 0.85 && messages.some(own)) {
        const message = pick(messages.filter(own));
        const sender = users.find((u) => u.userId === message.sender)!;
        const { content, mentioned } = compose(sender);
        await chat.edit(sender, message.id, content);
        message.mentioned = mentioned;
      } else if (roll < 0.93 && members.size < users.length) {
        const joining = pick(users.filter((u) => !members.has(u.userId)));
        await chat.add(joining);
        members.add(joining.userId);
      } else if (members.size > 2) {
        const leaving = pick(memberList().filter((u) => u.userId !== owner.userId));
        await chat.remove(leaving);
        members.delete(leaving.userId);
      }
      if (step % 40 === 0) await check();
    }
  });
});
