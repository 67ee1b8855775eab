/**
 * The command path against a real event store: queued commands for one group share one append, two independent
 * processors (as two server processes would be) settle revision conflicts by retrying, and nothing is lost.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommands, type Commands } from '../../../src/commands/index.js';
import { groupStreamId } from '../../../src/infra/crypto/event-sealing.js';
import type { EventStore } from '../../../src/infra/event-store/port.js';
import { openReadSide, type ReadSide } from '../../support/read-side.js';

let side: ReadSide;
const commandsOn = (eventStore: EventStore): Commands =>
  createCommands({ eventStore, crypto: side.crypto, clock: () => new Date(), newId: randomUUID });

/** Counts the appends a stream received: events of one append share a global transaction. */
function countingAppends(store: EventStore): EventStore & { appends: number } {
  const counted = Object.create(store) as EventStore & { appends: number };
  counted.appends = 0;
  counted.append = (...args) => {
    counted.appends++;
    return store.append(...args);
  };
  return counted;
}

/** A store whose append notices never arrive, as for a process whose notification connection is down. */
function deaf(store: EventStore): EventStore {
  const unhearing = Object.create(store) as EventStore;
  unhearing.onAppended = () => () => {};
  return unhearing;
}

beforeAll(async () => {
  side = await openReadSide();
});
afterAll(() => side?.close());

const send = (commands: Commands, groupId: string, senderUserId: number, content: string, clientMessageId: string | null = null) =>
  commands.sendMessage({ groupId, senderUserId, content, contentType: 'text', parentMessageId: null, clientMessageId, metadata: null });

describe('running commands', () => {
  it('decides commands that queue up together and appends them in fewer writes', async () => {
    const store = countingAppends(side.eventStore);
    const commands = commandsOn(store);
    const { groupId } = await commands.createGroup({ ownerUserId: 1, ownerUsername: 'u1', name: 'batch' });
    store.appends = 0;
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => send(commands, groupId, 1, `m${i}`)));
    expect(new Set(results.map((r) => r.messageId)).size).toBe(40);
    expect(store.appends).toBeLessThan(40);
    const events = await side.eventStore.readStream(groupStreamId(groupId));
    expect(events.filter((e) => e.type === 'MessageSent')).toHaveLength(40);
  });

  it('fails only the command that breaks a rule, not the others of its batch', async () => {
    const commands = commandsOn(side.eventStore);
    const { groupId } = await commands.createGroup({ ownerUserId: 1, ownerUsername: 'u1', name: 'mixed' });
    const outcomes = await Promise.allSettled([send(commands, groupId, 1, 'ok'), send(commands, groupId, 99, 'outsider'), send(commands, groupId, 1, 'ok too')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('settles conflicts between two processes writing to the same group, losing nothing', async () => {
    const [one, two] = [commandsOn(side.eventStore), commandsOn(side.eventStore)];
    const { groupId } = await one.createGroup({ ownerUserId: 1, ownerUsername: 'u1', name: 'contended' });
    await one.addMember({ groupId, actorUserId: 1, userId: 2, username: 'u2', role: 'member' });
    const sends = Array.from({ length: 30 }, (_, i) => (i % 2 ? send(one, groupId, 1, `a${i}`) : send(two, groupId, 2, `b${i}`)));
    const results = await Promise.all(sends);
    expect(new Set(results.map((r) => r.messageId)).size).toBe(30);
    const events = await side.eventStore.readStream(groupStreamId(groupId));
    expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
    expect(events.filter((e) => e.type === 'MessageSent')).toHaveLength(30);
  });

  it('answers a retried clientMessageId with the original id, even from another process', async () => {
    const [one, two] = [commandsOn(side.eventStore), commandsOn(side.eventStore)];
    const { groupId } = await one.createGroup({ ownerUserId: 1, ownerUsername: 'u1', name: 'idempotent' });
    const first = await send(one, groupId, 1, 'hello', 'client-1');
    const retry = await send(two, groupId, 1, 'hello', 'client-1');
    expect(retry).toMatchObject({ messageId: first.messageId, duplicate: true, position: null });
    const events = await side.eventStore.readStream(groupStreamId(groupId));
    expect(events.filter((e) => e.type === 'MessageSent')).toHaveLength(1);
  });

  it('decides on what another process wrote even when its notice never arrives: refusals and appends alike', async () => {
    const one = commandsOn(deaf(side.eventStore));
    const two = commandsOn(side.eventStore);
    const { groupId } = await one.createGroup({ ownerUserId: 1, ownerUsername: 'u1', name: 'unheard' });
    await send(one, groupId, 1, 'cached now');
    await two.addMember({ groupId, actorUserId: 1, userId: 3, username: 'u3', role: 'member' });
    // `one` still holds the group without member 3: its refusal must not stand on that.
    await expect(send(one, groupId, 3, 'from the new member')).resolves.toMatchObject({ duplicate: false });
    await two.removeMember({ groupId, actorUserId: 1, userId: 3 });
    await expect(send(one, groupId, 3, 'after removal')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await send(two, groupId, 1, 'from two');
    await send(one, groupId, 1, 'from one again');
    const events = await side.eventStore.readStream(groupStreamId(groupId));
    expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
    expect(events.filter((e) => e.type === 'MessageSent')).toHaveLength(4);
  });
});
