/**
 * Issue 7, "Faults": the same event delivered to a projector twice changes nothing. A history with every kind of
 * event — members leaving and coming back, edits that move mentions, reactions and pins taken back and given again,
 * reads, preferences, deletions — is projected; then checkpoints are rewound (all to the start, all to the middle,
 * one projection at a time) and the projector runs again, one event per batch or many. Every table must end as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Commands } from '../../../src/commands/index.js';
import { projectedPosition, projections } from '../../../src/projections/projector.js';
import { openMessageBody } from '../../../src/projections/queries/chat-message.js';
import { listPinned } from '../../../src/projections/queries/pins.js';
import { openReadSide, projectorOn, seedUser, untilProjected, type ReadSide } from '../../support/read-side.js';
import { commandsOn, type User } from '../../support/unread-counts.js';

let side: ReadSide;
let commands: Commands;
/** The log's last position, and one about halfway through the history. */
let last = '';
let middle = '';
const groupIds: string[] = [];
/** Every table as the history first projected it. */
let projected: Record<string, unknown[]>;
/** Delivery queues a row for each member not connected: here nobody is. */
const nobodyConnected = async () => new Set<number>();

beforeAll(async () => {
  side = await openReadSide();
  commands = commandsOn(side);
  const { projector } = projectorOn(side, { connected: nobodyConnected });
  try {
    await buildHistory();
    await untilProjected(side, last);
  } finally {
    await projector.stop();
  }
  projected = await everyTable();
});
afterAll(() => side?.close());

async function track<T extends { position: string | null }>(result: Promise<T>): Promise<T> {
  const done = await result;
  if (done.position) last = done.position;
  return done;
}

async function buildHistory(): Promise<void> {
  const [owner, bob, carol, dave] = (await Promise.all(['owner', 'bob', 'carol', 'dave'].map((name) => seedUser(side, name)))) as User[];
  for (const u of [owner, bob, carol, dave]) if (u!.position > last) last = u!.position;
  const { groupId } = await track(commands.createGroup({ ownerUserId: owner!.userId, ownerUsername: owner!.username, name: 'Replayed' }));
  const other = await track(commands.createGroup({ ownerUserId: bob!.userId, ownerUsername: bob!.username, name: 'Other' }));
  groupIds.push(groupId, other.groupId);

  const add = (u: User, role: 'member' | 'admin' = 'member', g = groupId, by = owner!) =>
    track(commands.addMember({ groupId: g, actorUserId: by.userId, userId: u.userId, username: u.username, role }));
  const remove = (u: User) => track(commands.removeMember({ groupId, actorUserId: owner!.userId, userId: u.userId }));
  const send = async (from: User, content: string, extra: { parentMessageId?: string; mentions?: boolean; g?: string } = {}) => {
    const mentions = extra.mentions ? [{ userId: carol!.userId, username: carol!.username, startIndex: 0, endIndex: carol!.username.length + 1, type: 'user' as const }] : undefined;
    const { messageId } = await track(
      commands.sendMessage({
        groupId: extra.g ?? groupId,
        senderUserId: from.userId,
        content,
        contentType: 'text',
        parentMessageId: extra.parentMessageId ?? null,
        clientMessageId: null,
        metadata: mentions ? { mentions } : null,
      }),
    );
    return messageId;
  };
  const react = (u: User, messageId: string, emoji: string, add = true) =>
    track((add ? commands.addReaction : commands.removeReaction)({ groupId, messageId, userId: u.userId, emoji }));
  const pin = (u: User, messageId: string, note: string | null) => track(commands.pinMessage({ groupId, messageId, userId: u.userId, note }));
  const read = (u: User, messageIds: string[]) => track(commands.markRead({ groupId, userId: u.userId, messageIds }));

  await add(bob!);
  await add(carol!);
  await add(dave!, 'admin');
  await add(carol!, 'member', other.groupId, bob!);
  const root = await send(owner!, 'root of everything');
  const reply = await send(bob!, 'a reply', { parentMessageId: root });
  const mention = await send(bob!, `@${carol!.username} look`, { mentions: true });
  const everyone = await send(carol!, '@everyone hello');
  await send(carol!, 'in the other group', { g: other.groupId });
  await react(bob!, root, '👍');
  await react(carol!, root, '👍');
  await react(bob!, root, '👍', false);
  await react(bob!, root, '👍');
  await react(carol!, reply, '❤️');
  await pin(owner!, root, 'first note');
  await pin(dave!, root, 'second note');
  await pin(owner!, reply, null);
  await track(commands.unpinMessage({ groupId, messageId: reply, userId: owner!.userId }));
  await pin(owner!, reply, 'pinned again');
  middle = last;

  await read(carol!, [root, mention]);
  await read(bob!, [root, everyone]);
  // carol leaves with unread messages and comes back; dave goes for good.
  await remove(carol!);
  const whileAway = await send(owner!, 'while carol was away');
  await add(carol!);
  await remove(dave!);
  await add(bob!, 'admin');
  await track(commands.editMessage({ groupId, messageId: root, editorUserId: owner!.userId, content: `root, now for @${carol!.username}` }));
  await track(commands.editMessage({ groupId, messageId: root, editorUserId: owner!.userId, content: 'root, edited again' }));
  await track(commands.editMessage({ groupId, messageId: mention, editorUserId: bob!.userId, content: 'nobody mentioned now' }));
  await track(commands.updatePreferences({ groupId, userId: bob!.userId, muted: true }));
  await track(commands.updatePreferences({ groupId, userId: bob!.userId, muted: false, notifyLevel: 'mentions' }));
  await track(commands.deleteMessage({ groupId, messageId: reply, actorUserId: owner!.userId }));
  await send(bob!, `@${carol!.username} after the deletion`, { mentions: true });
  await read(carol!, [whileAway]);
}

/**
 * Every read-model table, row by row, in a fixed order. Sealed text is opened (sealing again gives other bytes for
 * the same text), and the checkpoints' own bookkeeping time is left out.
 */
async function everyTable(): Promise<Record<string, unknown[]>> {
  const tables = (await side.db.introspection.getTables()).map((t) => t.name).filter((name) => name.startsWith('mirror_') && name !== 'mirror_events');
  const dump: Record<string, unknown[]> = {};
  for (const table of tables.sort()) {
    const rows = (await side.db.selectFrom(table).selectAll().execute()) as Array<Record<string, unknown>>;
    const shown = await Promise.all(
      rows.map(async (row) => {
        const copy = { ...row };
        if (table === 'mirror_projection_checkpoints') delete copy.updated_at;
        if (table === 'mirror_group_messages' && row.body_sealed) {
          copy.body_sealed = await openMessageBody(side.crypto, row.group_id as string, row.id as string, row.body_sealed as Uint8Array);
        }
        // Opened below, through the query that reads them.
        if (table === 'mirror_group_pinned_messages') delete copy.pin_note_sealed;
        return JSON.stringify(copy);
      }),
    );
    dump[table] = shown.sort();
  }
  dump.pinNotes = await Promise.all(groupIds.map(async (g) => (await listPinned(side, g, 0)).map((m) => [m.id, m.metadata.pinNote])));
  return dump;
}

/** Rewinds the checkpoints of `names` to `to`, runs a projector until the log's end, and reads every table. */
async function replay(names: string[], to: string, batchSize?: number): Promise<Record<string, unknown[]>> {
  await side.db.updateTable('mirror_projection_checkpoints').set({ position: to }).where('projection', 'in', names).execute();
  expect(await projectedPosition(side.db)).toBe(to);
  const { projector, logs } = projectorOn(side, { connected: nobodyConnected, ...(batchSize ? { batchSize } : {}) });
  try {
    await untilProjected(side, last);
  } finally {
    await projector.stop();
  }
  expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  return everyTable();
}

const everyProjection = () => projections.map((p) => p.name);

describe('replaying events already applied', () => {
  it('projected a history with every kind of event', () => {
    expect(projected.mirror_group_messages).toHaveLength(7);
    expect(projected.mirror_group_message_reactions).toHaveLength(2);
    expect(projected.pinNotes).toEqual([[expect.any(Array)], []]);
    expect(projected.mirror_group_message_delivery_queue?.length).toBeGreaterThan(0);
  });

  it('changes no table when every projection replays the whole log, in one batch or event by event', async () => {
    expect(await replay(everyProjection(), '')).toEqual(projected);
    expect(await replay(everyProjection(), '', 1)).toEqual(projected);
  });

  it('changes no table when every projection replays from the middle of the history', async () => {
    expect(await replay(everyProjection(), middle, 2)).toEqual(projected);
  });

  it.each(projections.map((p) => [p.name]))('changes no table when only %s replays the whole log', async (name) => {
    expect(await replay([name], '')).toEqual(projected);
  });
});
