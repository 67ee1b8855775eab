import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupStreamId } from '../../../src/infra/crypto/event-sealing.js';
import type { LeaderLock } from '../../../src/infra/locks/port.js';
import { BROADCAST_CHANNEL, decodeBroadcasts, type Broadcast } from '../../../src/projections/broadcasts.js';
import { CHECKPOINT_CHANNEL, projectedPosition } from '../../../src/projections/projector.js';
import { getGroup } from '../../../src/projections/queries/groups.js';
import { getMessage, listMessages } from '../../../src/projections/queries/messages.js';
import { getUser } from '../../../src/projections/queries/users.js';
import {
  append,
  eventually,
  listen,
  messageSent,
  openReadSide,
  projectorOn,
  seedGroup,
  seedUser,
  untilProjected,
  type ReadSide,
} from '../../support/read-side.js';
import { bruteForceCounters, storedCounters } from '../../support/unread-counts.js';

let side: ReadSide;
beforeAll(async () => {
  side = await openReadSide();
});
afterAll(async () => {
  await side?.close();
});

const leading = (logs: Array<{ message: string }>) => logs.some((l) => l.message === 'projector: leading');

/** Whose `hasReacted` the reads below carry: nobody's, as no test here is about a viewer. */
const NOBODY = 0;

/** Everything a reader can see of a group: its members and its whole history. */
async function groupAsRead(groupId: string) {
  const { messages } = await listMessages(side, { groupId, direction: 'after', limit: 100, viewerId: NOBODY });
  return { group: await getGroup(side, groupId), messages };
}

/** A group of `ownerId` with a root message, and a maker of replies to it. */
async function thread(ownerId: number) {
  const { groupId } = await seedGroup(side, ownerId);
  const root = messageSent(groupId, ownerId, 'root');
  const reply = () => messageSent(groupId, ownerId, 'reply', { parentMessageId: root.data.messageId, threadRootId: root.data.messageId });
  return { groupId, stream: groupStreamId(groupId), root, reply };
}


const sentIds = (heard: Broadcast[]) =>
  heard.flatMap((b) => (b.kind === 'group' && b.frame.type === 'chat:message' ? [b.frame.payload.message.id] : []));

describe('checkpoints', () => {
  it('resumes after a restart where it stopped, neither skipping nor re-applying', async () => {
    const first = projectorOn(side);
    const owner = await seedUser(side);
    const { groupId, stream, root, reply } = await thread(owner.userId);
    const before = await append(side, stream, [root, reply(), reply()]);
    await untilProjected(side, before.position);
    await first.projector.stop();

    const after = await append(side, stream, [reply(), reply()]);
    expect(await projectedPosition(side.db)).toBe(before.position);
    const second = projectorOn(side);
    await untilProjected(side, after.position);
    await second.projector.stop();

    const { messages } = await groupAsRead(groupId);
    expect(messages).toHaveLength(5);
    expect(messages[0]).toMatchObject({ id: root.data.messageId, threadReplyCount: 4 });
  });

  it('changes nothing when the same events are applied again', async () => {
    const first = projectorOn(side);
    const [owner, bob, carol] = await Promise.all([seedUser(side, 'owner'), seedUser(side, 'bob'), seedUser(side, 'carol')]);
    await untilProjected(side, [owner, bob, carol].map((u) => u.position).sort().at(-1)!);
    const rewindTo = await projectedPosition(side.db);

    const { groupId, stream, root, reply } = await thread(owner.userId);
    const [r1, r2] = [reply(), reply()];
    const at = new Date().toISOString();
    await append(side, stream, [
      { type: 'MemberAdded', data: { groupId, userId: bob.userId, username: bob.username, role: 'member', addedBy: owner.userId, addedAt: at } },
      { type: 'MemberAdded', data: { groupId, userId: carol.userId, username: carol.username, role: 'member', addedBy: owner.userId, addedAt: at } },
      root,
      r1,
      r2,
    ]);
    const { position } = await append(side, stream, [
      { type: 'MessageEdited', data: { groupId, messageId: r1.data.messageId, content: 'edited', editedBy: owner.userId, editedAt: at } },
      { type: 'MessageDeleted', data: { groupId, messageId: r2.data.messageId, deletedBy: owner.userId, deletedAt: at } },
      { type: 'MemberAdded', data: { groupId, userId: bob.userId, username: bob.username, role: 'admin', addedBy: owner.userId, addedAt: at } },
      { type: 'MemberRemoved', data: { groupId, userId: carol.userId, removedBy: owner.userId, removedAt: at } },
    ]);
    await untilProjected(side, position);
    const once = await groupAsRead(groupId);
    await first.projector.stop();

    // As if the read models had been restored from a backup older than their rows.
    await side.db.updateTable('mirror_projection_checkpoints').set({ position: rewindTo }).execute();
    const again = projectorOn(side, { batchSize: 3 });
    await untilProjected(side, position);
    await again.projector.stop();

    expect(await groupAsRead(groupId)).toEqual(once);
    expect(once.messages.map((m) => m.content)).toEqual(['root', 'edited', '']);
    // Two replies, one of them deleted: counted in once and out once, however often the events are applied.
    expect(once.messages[0]!.threadReplyCount).toBe(1);
    expect(once.group!.members.map((m) => [m.userId, m.role])).toEqual([
      [owner.userId, 'owner'],
      [bob.userId, 'admin'],
    ]);
  });
});

describe('runs of sends', () => {
  it('projects sends that arrive in one batch as it would one at a time', async () => {
    const [ann, ben, cat] = [await seedUser(side, 'ann'), await seedUser(side, 'ben'), await seedUser(side, 'cat')];
    const one = await seedGroup(side, ann.userId, [ben.userId, cat.userId]);
    const two = await seedGroup(side, ben.userId, [cat.userId]);
    const root = messageSent(one.groupId, ann.userId, 'root');
    const atAnn = `hi @${ann.username}`;
    const sends = [
      root,
      messageSent(one.groupId, ben.userId, 'reply', { parentMessageId: root.data.messageId, threadRootId: root.data.messageId }),
      messageSent(one.groupId, cat.userId, atAnn, {
        metadata: { mentions: [{ userId: ann.userId, username: ann.username, startIndex: 3, endIndex: atAnn.length, type: 'user' }] },
      }),
      messageSent(one.groupId, ann.userId, 'again'),
      messageSent(two.groupId, ben.userId, 'x'),
      messageSent(two.groupId, cat.userId, 'y'),
      messageSent(two.groupId, cat.userId, '@everyone z', {
        metadata: { mentions: [{ userId: 0, username: 'everyone', startIndex: 0, endIndex: 9, type: 'everyone' }] },
      }),
    ];
    // All appended before a projector starts, so that they reach it in one batch, as after downtime.
    await append(side, groupStreamId(one.groupId), sends.slice(0, 4));
    const { position } = await append(side, groupStreamId(two.groupId), sends.slice(4));
    const heard = await listen(side);
    const { projector } = projectorOn(side);
    await untilProjected(side, position);
    await eventually(() => heard.filter((b) => b.kind === 'user').length === 2);
    await projector.stop();

    expect(await storedCounters(side, one.groupId)).toEqual({
      live: 4,
      members: { [ann.userId]: [2, 1], [ben.userId]: [3, 0], [cat.userId]: [3, 0] },
    });
    expect(await storedCounters(side, two.groupId)).toEqual({ live: 3, members: { [ben.userId]: [2, 1], [cat.userId]: [1, 0] } });
    for (const { groupId } of [one, two]) expect(await storedCounters(side, groupId)).toEqual(await bruteForceCounters(side, groupId));

    // Each frame shows its message as sent: as a read shows it now, but for the root, whose reply came later.
    const read = [...(await groupAsRead(one.groupId)).messages, ...(await groupAsRead(two.groupId)).messages];
    const frames = heard.flatMap((b) => (b.kind === 'group' && b.frame.type === 'chat:message' ? [b.frame.payload.message] : []));
    expect(frames).toEqual(read.map((m) => (m.id === root.data.messageId ? { ...m, threadReplyCount: 0 } : m)));
    expect(read[0]!.threadReplyCount).toBe(1);
    expect(frames[1]!.metadata.replyPreview).toEqual({ messageId: root.data.messageId, senderUsername: ann.username, content: 'root' });

    const mentions = heard.flatMap((b) => (b.kind === 'user' ? [[b.userId, b.frame.payload.mentionType, b.frame.payload.message.content]] : []));
    expect(mentions).toEqual([
      [ann.userId, 'user', atAnn],
      [ben.userId, 'everyone', '@everyone z'],
    ]);
  });
});

describe('broadcasts', () => {
  it('go out after their commit, in log order, followed by a checkpoint notice', async () => {
    const heard = await listen(side);
    const notices: string[] = [];
    const visibleWhenHeard: boolean[] = [];
    const bus = await side.openBus();
    await bus.subscribe(CHECKPOINT_CHANNEL, (position) => notices.push(position));
    await bus.subscribe(BROADCAST_CHANNEL, (wire) => {
      void decodeBroadcasts(side.crypto, wire, () => {}).then(async (broadcasts) => {
        for (const b of broadcasts) {
          if (b.kind === 'group' && b.frame.type === 'chat:message') {
            visibleWhenHeard.push((await getMessage(side, b.groupId, b.frame.payload.message.id, NOBODY)) !== null);
          }
        }
      });
    });

    const { projector } = projectorOn(side, { batchSize: 2 });
    const [owner, bob] = await Promise.all([seedUser(side, 'owner'), seedUser(side, 'bob')]);
    const { groupId, stream } = await thread(owner.userId);
    const at = new Date().toISOString();
    const messages = [1, 2, 3].map((n) => messageSent(groupId, owner.userId, `m${n}`));
    await append(side, stream, [
      { type: 'MemberAdded', data: { groupId, userId: bob.userId, username: bob.username, role: 'member', addedBy: owner.userId, addedAt: at } },
    ]);
    for (const m of messages) await append(side, stream, [m]);
    const [m1, m2] = messages.map((m) => m.data.messageId);
    const { position } = await append(side, stream, [
      { type: 'MessageEdited', data: { groupId, messageId: m1!, content: 'm1 edited', editedBy: owner.userId, editedAt: at } },
      { type: 'MessageDeleted', data: { groupId, messageId: m2!, deletedBy: owner.userId, deletedAt: at } },
      { type: 'MemberRemoved', data: { groupId, userId: bob.userId, removedBy: owner.userId, removedAt: at } },
    ]);
    await untilProjected(side, position);
    await eventually(() => notices.includes(position) && visibleWhenHeard.length === 3);
    await projector.stop();

    const summary = heard
      .filter((b) => b.groupId === groupId)
      .map((b) => {
        if (b.kind !== 'group') return `${b.kind}:${b.userId}`;
        const payload = b.frame.payload as { message?: { content: string }; messageId?: string };
        return `${b.frame.type}:${payload.message?.content ?? payload.messageId}`;
      });
    expect(summary).toEqual([
      `member_added:${owner.userId}`,
      `member_added:${bob.userId}`,
      'chat:message:m1',
      'chat:message:m2',
      'chat:message:m3',
      `chat:message_edited:${m1}`,
      `chat:message_deleted:${m2}`,
      `member_removed:${bob.userId}`,
    ]);
    expect(heard.find((b) => b.kind === 'group' && b.frame.type === 'chat:message_edited')).toMatchObject({
      frame: { payload: { messageId: m1, groupId, content: 'm1 edited', editedAt: at, editedBy: owner.userId } },
    });
    expect(heard.find((b) => b.kind === 'group' && b.frame.type === 'chat:message_deleted')).toMatchObject({
      frame: { payload: { messageId: m2, groupId, deletedBy: owner.userId } },
    });
    expect(visibleWhenHeard).toEqual([true, true, true]);
    expect(notices).toEqual([...notices].sort());
  });
});

describe('leadership', () => {
  it('lets one projector work at a time, and another take over when it stops', async () => {
    const heard = await listen(side);
    const a = projectorOn(side, { lock: side.openLock(), bus: await side.openBus() });
    await eventually(() => leading(a.logs));
    const b = projectorOn(side, { lock: side.openLock(), bus: await side.openBus() });

    const owner = await seedUser(side);
    const { groupId, stream } = await thread(owner.userId);
    const sendThree = async () => {
      let position = '';
      for (let i = 0; i < 3; i++) ({ position } = await append(side, stream, [messageSent(groupId, owner.userId, 'hi')]));
      await untilProjected(side, position);
    };
    await sendThree();
    await eventually(() => sentIds(heard).length === 3);
    expect(leading(b.logs)).toBe(false);

    await a.projector.stop();
    await eventually(() => leading(b.logs));
    await sendThree();
    await eventually(() => sentIds(heard).length === 6);
    await b.projector.stop();
    expect(new Set(sentIds(heard)).size).toBe(6);
  });

  it('applies nothing twice even when two projectors both believe they lead', async () => {
    const everyoneLeads: LeaderLock = { tryAcquire: async () => ({ lost: new Promise(() => {}), release: async () => {} }) };
    const heard = await listen(side);
    const owner = await seedUser(side);
    const { groupId, stream, root, reply } = await thread(owner.userId);
    const a = projectorOn(side, { lock: everyoneLeads, batchSize: 2 });
    const b = projectorOn(side, { lock: everyoneLeads, batchSize: 2 });
    let position = (await append(side, stream, [root])).position;
    for (let i = 0; i < 6; i++) {
      const [r1, r2] = [reply(), reply()];
      // An edit broadcasts each time it is applied, so applying one twice would show.
      const edit = { groupId, messageId: r1.data.messageId, content: 'edited', editedBy: owner.userId, editedAt: new Date().toISOString() };
      ({ position } = await append(side, stream, [r1, r2, { type: 'MessageEdited', data: edit }]));
    }
    await untilProjected(side, position);
    const frames = () => heard.filter((b) => b.kind === 'group').map((b) => b.frame.type);
    await eventually(() => frames().length >= 19);
    await Promise.all([a.projector.stop(), b.projector.stop()]);

    const { messages } = await groupAsRead(groupId);
    expect(messages).toHaveLength(13);
    expect(messages[0]!.threadReplyCount).toBe(12);
    expect(frames().filter((type) => type === 'chat:message')).toHaveLength(13);
    expect(frames().filter((type) => type === 'chat:message_edited')).toHaveLength(6);
  });
});

describe('failures', () => {
  const moveMessagesTable = (from: string, to: string) => side.db.schema.alterTable(from).renameTo(to).execute();

  it('retries a failing event until it applies, holding back only what follows it', async () => {
    const first = projectorOn(side);
    const owner = await seedUser(side);
    const { groupId, position: ready } = await seedGroup(side, owner.userId);
    await untilProjected(side, ready);
    await first.projector.stop();

    // Until the table is back, every message fails to project.
    await moveMessagesTable('mirror_group_messages', 'mirror_group_messages_away');
    let moved = true;
    const sent = messageSent(groupId, owner.userId, 'held up');
    const carol = await seedUser(side, 'carol');
    const { position: failing } = await append(side, groupStreamId(groupId), [sent]);
    const dave = await seedUser(side, 'dave');
    const { logs, projector } = projectorOn(side);
    try {
      await eventually(() => logs.some((l) => l.level === 'error'));
      expect(logs.find((l) => l.level === 'error')!.fields).toMatchObject({
        stream: groupStreamId(groupId),
        revision: 2,
        position: failing,
        eventType: 'MessageSent',
        projection: 'messages',
      });
      // carol came before the failing event in the same batch, dave after it.
      expect(await getUser(side, carol.userId)).not.toBeNull();
      expect(await getUser(side, dave.userId)).toBeNull();
      expect((await projectedPosition(side.db)) < failing).toBe(true);

      await moveMessagesTable('mirror_group_messages_away', 'mirror_group_messages');
      moved = false;
      await untilProjected(side, dave.position);
      expect(await getMessage(side, groupId, sent.data.messageId, NOBODY)).toMatchObject({ content: 'held up' });
      expect(await getUser(side, dave.userId)).not.toBeNull();
    } finally {
      await projector.stop();
      if (moved) await moveMessagesTable('mirror_group_messages_away', 'mirror_group_messages');
    }
  });

  it('names the one send at fault in a run of sends, and projects those before it', async () => {
    // A side of its own: the faulty send would hold back every later projector of the shared one.
    const own = await openReadSide();
    const { projector, logs } = projectorOn(own);
    try {
      const owner = await seedUser(own);
      const { groupId } = await seedGroup(own, owner.userId);
      const [before, after] = [messageSent(groupId, owner.userId, 'before'), messageSent(groupId, owner.userId, 'after')];
      // A content type longer than its column: the row cannot be stored.
      const faulty = messageSent(groupId, owner.userId, 'faulty', { contentType: 'x'.repeat(40) as 'text' });
      const { nextRevision } = await append(own, groupStreamId(groupId), [before, faulty, after]);
      await eventually(() => logs.some((l) => l.level === 'error'));
      expect(logs.find((l) => l.level === 'error')!.fields).toMatchObject({ stream: groupStreamId(groupId), revision: nextRevision - 1, eventType: 'MessageSent' });
      expect(await getMessage(own, groupId, before.data.messageId, NOBODY)).toMatchObject({ content: 'before' });
      expect(await getMessage(own, groupId, after.data.messageId, NOBODY)).toBeNull();
    } finally {
      await projector.stop();
      await own.close();
    }
  });
});
