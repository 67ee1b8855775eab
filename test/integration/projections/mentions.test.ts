/**
 * The mentions projection: one row per member a message reaches, unread-mention counts that follow sends, edits,
 * reads, deletes and joins, and `chat:mention` to each member a message newly mentions, wherever they are connected.
 */
import { describe, expect, it } from 'vitest';
import type { Commands } from '../../../src/commands/index.js';
import type { Broadcast, UserFrame } from '../../../src/projections/broadcasts.js';
import { getMessage } from '../../../src/projections/queries/messages.js';
import { eventually, listen, seedUser, useProjectedReadSide, type ReadSide } from '../../support/read-side.js';
import { bruteForceCounters, commandsOn, groupChat, mentionRows, storedCounters, type User } from '../../support/unread-counts.js';

let side: ReadSide;
let commands: Commands;
useProjectedReadSide((opened) => {
  side = opened;
  commands = commandsOn(side);
});

/** A group of four: ann (owner), ben, cat and dan. */
async function team() {
  const [ann, ben, cat, dan] = [await seedUser(side, 'ann'), await seedUser(side, 'ben'), await seedUser(side, 'cat'), await seedUser(side, 'dan')];
  const chat = await groupChat(side, commands, ann, [ben, cat, dan]);
  return { ann, ben, cat, dan, chat };
}

/** The chat:mention frames heard so far, as [recipient, message id, mention type]. */
const mentionsHeard = (heard: Broadcast[]) =>
  heard.flatMap((b) => (b.kind === 'user' && b.frame.type === 'chat:mention' ? [[b.userId, b.frame.payload.message.id, b.frame.payload.mentionType]] : []));

/** Waits for the broadcasts of everything done so far: a message sent last is broadcast after them. */
async function heardUpTo(heard: Broadcast[], chat: Awaited<ReturnType<typeof team>>['chat'], by: User) {
  const marker = await chat.send(by, 'marker');
  await chat.settled();
  await eventually(() => heard.some((b) => b.kind === 'group' && b.frame.type === 'chat:message' && b.frame.payload.message.id === marker));
}

const mentionCounts = async (chat: Awaited<ReturnType<typeof team>>['chat'], ...users: User[]) => {
  const { members } = await chat.counters();
  return users.map((u) => members[u.userId]![1]);
};

describe('mentions on send', () => {
  it('reaches every member but the sender for @everyone, by name where named, and tells each of them', async () => {
    const { ann, ben, cat, dan, chat } = await team();
    const heard = await listen(side);
    const id = await chat.send(ben, `@everyone, @${cat.username} first`);
    await heardUpTo(heard, chat, ben);

    expect(await mentionRows(side, chat.groupId)).toEqual({ [id]: { [ann.userId]: 'everyone', [cat.userId]: 'user', [dan.userId]: 'everyone' } });
    expect(await mentionCounts(chat, ann, ben, cat, dan)).toEqual([1, 0, 1, 1]);
    expect(mentionsHeard(heard)).toEqual([
      [ann.userId, id, 'everyone'],
      [cat.userId, id, 'user'],
      [dan.userId, id, 'everyone'],
    ]);
    const frame = heard.find((b): b is Broadcast & { kind: 'user'; frame: UserFrame } => b.kind === 'user')!;
    expect(frame.groupId).toBe(chat.groupId);
    expect(frame.frame.payload).toEqual({ message: await getMessage(side, chat.groupId, id, frame.userId), groupId: chat.groupId, mentionType: 'everyone' });
    expect(frame.frame.payload.message.metadata.mentions).toEqual([
      { userId: 0, username: 'everyone', startIndex: 0, endIndex: 9, type: 'everyone' },
      { userId: cat.userId, username: cat.username, startIndex: 11, endIndex: 12 + cat.username.length, type: 'user' },
    ]);
  });

  it('reaches only current members with @everyone: who joins later is not mentioned', async () => {
    const { ann, ben, chat } = await team();
    const eve = await seedUser(side, 'eve');
    await chat.send(ann, '@everyone hello');
    await chat.add(eve);
    expect(await mentionCounts(chat, ben, eve)).toEqual([1, 0]);
  });
});

describe('mention counts', () => {
  it('drop when the mentioned member reads the message, and stay down on a second read', async () => {
    const { ann, ben, cat, chat } = await team();
    const id = await chat.send(ann, `@${ben.username} and @${cat.username}`);
    await chat.send(ann, `@${ben.username} again`);
    expect(await mentionCounts(chat, ben, cat)).toEqual([2, 1]);
    await chat.read(ben, [id]);
    await chat.read(ben, [id]);
    expect(await mentionCounts(chat, ben, cat)).toEqual([1, 1]);
  });

  it('drop when the message is deleted, for those who had not read it', async () => {
    const { ann, ben, cat, chat } = await team();
    const id = await chat.send(ann, `@${ben.username} @${cat.username}`);
    await chat.read(ben, [id]);
    await chat.delete(ann, id);
    expect(await mentionCounts(chat, ben, cat)).toEqual([0, 0]);
    expect(await mentionRows(side, chat.groupId)).toEqual({});
    expect(await storedCounters(side, chat.groupId)).toEqual(await bruteForceCounters(side, chat.groupId));
  });

  it('come back with a member who leaves and returns, for messages still unread and live', async () => {
    const { ann, ben, chat } = await team();
    const [m1, m2] = [await chat.send(ann, `@${ben.username} one`), await chat.send(ann, `@${ben.username} two`)];
    await chat.send(ann, `@${ben.username} three`);
    await chat.read(ben, [m1]);
    await chat.remove(ben);
    await chat.delete(ann, m2);
    await chat.add(ben);
    expect(await mentionCounts(chat, ben)).toEqual([1]);
    expect(await storedCounters(side, chat.groupId)).toEqual(await bruteForceCounters(side, chat.groupId));
  });
});

describe('mentions on edit', () => {
  it('follow the new text: edited out leaves the counts, edited in joins them and is told, unchanged is not told again', async () => {
    const { ann, ben, cat, dan, chat } = await team();
    const heard = await listen(side);
    const id = await chat.send(ann, `hi @${ben.username} and @${cat.username}`);
    await chat.read(cat, [id]);

    await chat.edit(ann, id, `hi @${ben.username} and @${dan.username}`);
    await heardUpTo(heard, chat, ann);
    expect(await mentionRows(side, chat.groupId)).toEqual({ [id]: { [ben.userId]: 'user', [dan.userId]: 'user' } });
    expect(await mentionCounts(chat, ben, cat, dan)).toEqual([1, 0, 1]);
    expect(mentionsHeard(heard)).toEqual([
      [ben.userId, id, 'user'],
      [cat.userId, id, 'user'],
      [dan.userId, id, 'user'],
    ]);

    const message = await getMessage(side, chat.groupId, id, ann.userId);
    expect(message!.metadata.mentions).toEqual([
      { userId: ben.userId, username: ben.username, startIndex: 3, endIndex: 4 + ben.username.length, type: 'user' },
      { userId: dan.userId, username: dan.username, startIndex: 9 + ben.username.length, endIndex: 10 + ben.username.length + dan.username.length, type: 'user' },
    ]);

    await chat.edit(ann, id, 'no one now');
    expect(await mentionCounts(chat, ben, cat, dan)).toEqual([0, 0, 0]);
    expect(await mentionRows(side, chat.groupId)).toEqual({});
    expect((await getMessage(side, chat.groupId, id, ann.userId))!.metadata).not.toHaveProperty('mentions');
  });

  it('mentions a member edited in who has read the message without counting it as unread', async () => {
    const { ann, cat, chat } = await team();
    const heard = await listen(side);
    const id = await chat.send(ann, 'plain');
    await chat.read(cat, [id]);
    await chat.edit(ann, id, `plain @${cat.username}`);
    await heardUpTo(heard, chat, ann);
    expect(mentionsHeard(heard)).toEqual([[cat.userId, id, 'user']]);
    expect(await mentionCounts(chat, cat)).toEqual([0]);
  });

  it('keeps a member named and then reached only through @everyone, and the other way round, without telling them again', async () => {
    const { ann, ben, cat, dan, chat } = await team();
    const heard = await listen(side);
    const id = await chat.send(ann, `@${ben.username}`);
    await chat.edit(ann, id, '@everyone');
    await heardUpTo(heard, chat, ann);
    expect(await mentionRows(side, chat.groupId)).toEqual({ [id]: { [ben.userId]: 'everyone', [cat.userId]: 'everyone', [dan.userId]: 'everyone' } });
    expect(mentionsHeard(heard)).toEqual([
      [ben.userId, id, 'user'],
      [cat.userId, id, 'everyone'],
      [dan.userId, id, 'everyone'],
    ]);
    await chat.edit(ann, id, `@${cat.username}`);
    expect(await mentionCounts(chat, ben, cat, dan)).toEqual([0, 1, 0]);
    expect(await mentionRows(side, chat.groupId)).toEqual({ [id]: { [cat.userId]: 'user' } });
  });
});
