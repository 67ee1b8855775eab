/**
 * Seeds a group's history straight into the event store, through the project's own modules: the user and the group
 * go through the commands as the API would send them, the messages are sealed MessageSent events appended in large
 * batches (one HTTP request per message would make a million-message history take hours). The server's projector
 * then builds the read models from them, exactly as from events it wrote itself.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { pino } from 'pino';
import { hashPassword } from '../src/api/auth/passwords.js';
import { openBackends, type Backends } from '../src/cli/backends.js';
import { parseConfig } from '../src/cli/config.js';
import { createCommands } from '../src/commands/index.js';
import type { MessageSent } from '../src/domain/messages.js';
import { groupStreamId, openEvent, sealEvent } from '../src/infra/crypto/event-sealing.js';
import type { ExpectedRevision } from '../src/infra/event-store/port.js';
import { projectedPosition } from '../src/projections/projector.js';
import { timeOrderedId } from '../src/infra/time-ordered-id.js';
import { chain, linkOf, NO_LINK } from '../src/infra/event-store/hash-chain.js';
import { RestClient } from '../test/support/client.js';
import type { TestBackends } from '../test/support/server.js';
import { startChatServer, type ChatServer } from './servers.js';

export interface SeededGroup {
  username: string;
  password: string;
  groupId: string;
  /** Every message's id, oldest first. */
  messageIds: string[];
  /** Every event appended, this group's and any other's. */
  events: number;
  /** Global position of the last event appended. */
  head: string;
  /** The seeding process's own connections to the backends; closed by the caller. */
  backends: Backends;
}

export interface SeededGroups extends Omit<SeededGroup, 'groupId' | 'messageIds'> {
  /** In the order seeded; each group's messages oldest first. */
  groups: Array<{ groupId: string; messageIds: string[] }>;
}

const APPEND_BATCH = 2000;
/** Per group and turn when several groups are seeded. */
const INTERLEAVED_BATCH = 100;
const READ_BACK_PAGE = 1000;
const PASSWORD = 'correct horse battery';

export async function seedGroupHistory(env: Record<string, string>, messages: number, contentChars: number): Promise<SeededGroup> {
  const seeded = await seedGroups(env, 1, messages, (n) => `message ${n} `.padEnd(contentChars, 'x'));
  const [{ groupId, messageIds }] = seeded.groups as [SeededGroups['groups'][number]];
  return { ...seeded, groupId, messageIds };
}

/** `groups` groups of one owner, each with `perGroup` messages whose texts `text` gives (n counts group by group). */
export async function seedGroups(env: Record<string, string>, groups: number, perGroup: number, text: (n: number) => string): Promise<SeededGroups> {
  const backends = await openBackends(parseConfig(env), pino({ level: 'error' }));
  try {
    const { eventStore, crypto } = backends;
    const commands = createCommands({ eventStore, crypto, clock: () => new Date(), newId: () => timeOrderedId() });
    const username = `bench_${randomUUID().slice(0, 8)}`;
    const { userId } = await commands.registerUser({ username, email: `${username}@example.test`, passwordHash: await hashPassword(PASSWORD) });
    const seeded: Array<SeededGroups['groups'][number] & { streamId: string; link: string; expected: ExpectedRevision }> = [];
    for (let g = 0; g < groups; g++) {
      const { groupId } = await commands.createGroup({ ownerUserId: userId, ownerUsername: username, name: `Group ${g + 1}` });
      const streamId = groupStreamId(groupId);
      // Linked on from the group's own events, as the server links what it appends; they came first, and from then on
      // each batch states the revision it follows.
      const link = (await eventStore.readStream(streamId)).reduce(linkOf, NO_LINK);
      seeded.push({ groupId, messageIds: [], streamId, link, expected: 'any' });
    }
    let head = '';
    let n = 0;
    const firstSentAt = Date.now() - groups * perGroup;
    // Groups take turns, a batch each, as live groups' messages interleave in time: what is stored in time order
    // (message ids, as the server makes them) is then not grouped by group.
    const batch = groups === 1 ? APPEND_BATCH : INTERLEAVED_BATCH;
    for (let done = 0; done < perGroup; done += batch) {
      const size = Math.min(batch, perGroup - done);
      for (const [g, group] of seeded.entries()) {
        const events = await Promise.all(
          Array.from({ length: size }, (_, i) => {
            const event: MessageSent = {
              type: 'MessageSent',
              data: {
                groupId: group.groupId,
                messageId: timeOrderedId(firstSentAt + n),
                senderUserId: userId,
                content: text(g * perGroup + done + i),
                contentType: 'text',
                parentMessageId: null,
                threadRootId: null,
                clientMessageId: null,
                metadata: null,
                sentAt: new Date(firstSentAt + n).toISOString(),
              },
            };
            n++;
            group.messageIds.push(event.data.messageId);
            return sealEvent(crypto, group.streamId, randomUUID(), event, {});
          }),
        );
        const linked = chain(group.link, events);
        group.link = linked.last;
        const appended = await eventStore.append(group.streamId, linked.events, group.expected);
        group.expected = appended.nextRevision;
        head = appended.position;
      }
    }
    return { username, password: PASSWORD, groups: seeded.map(({ groupId, messageIds }) => ({ groupId, messageIds })), events: n, head, backends };
  } catch (error) {
    await backends.close();
    throw error;
  }
}

/** The seeded events read back and opened, without projecting: what catch-up could reach if writing cost nothing. */
export async function readBackRate(backends: Backends): Promise<number> {
  const started = performance.now();
  let events = 0;
  for (let after: string | null = null; ; ) {
    const page = await backends.eventStore.readAll(after, READ_BACK_PAGE);
    if (page.length === 0) break;
    await Promise.all(page.map((recorded) => openEvent(backends.crypto, recorded)));
    events += page.length;
    after = page.at(-1)!.position;
  }
  return events / ((performance.now() - started) / 1000);
}

export interface CaughtUp {
  server: ChatServer;
  /** Logged in as the seeded group's owner. */
  api: RestClient;
  /**
   * Seconds from spawning the server until the read models reached the seeded head. Start-up is included: the
   * projector starts before the server listens, and on PGlite it holds up the start-up queries it shares a
   * connection with, so "from listening" would undercount there.
   */
  seconds: number;
  /** From the server's "listening" line instead. */
  secondsFromListening: number;
}

const POLL_MS = 100;
/** Gives up on a projector slower than 500 events/s, so a broken run still ends. */
const catchUpTimeoutMs = (events: number) => 60_000 + events * 2;

/**
 * Starts the chat server on seeded backends and waits until its projector has caught up. On the full profile the
 * checkpoint is read directly; PGlite is one process's, so on the embedded profile the newest page is polled
 * instead (rows and checkpoints commit together, so the last message showing means the checkpoint is there too).
 */
export async function serveSeeded(backends: TestBackends, seed: SeededGroup): Promise<CaughtUp> {
  const embedded = !backends.env.EVENTSTORE_URL;
  if (embedded) await seed.backends.close();
  const spawnedAt = performance.now();
  const server = await startChatServer(backends);
  const listeningAt = performance.now();
  try {
    const api = new RestClient(server.process.url);
    const lastId = seed.messageIds.at(-1);
    const deadline = Date.now() + catchUpTimeoutMs(seed.events);
    const caughtUp = async () => {
      if (!embedded) return (await projectedPosition(seed.backends.readDb)) >= seed.head;
      if (!api.token) {
        const login = await api.post('/mirror/api/auth/login', { username: seed.username, password: seed.password });
        if (login.status !== 200) return false;
        api.token = login.body.data.token as string;
      }
      const page = await api.get(`/mirror/api/groups/${seed.groupId}/chat/messages?limit=1`);
      return page.status === 200 && page.body.data.messages[0]?.id === lastId;
    };
    while (!(await caughtUp())) {
      if (Date.now() > deadline) throw new Error(`the projector did not catch up with ${seed.events} events in time`);
      await setTimeout(POLL_MS);
    }
    const doneAt = performance.now();
    if (!embedded) {
      await seed.backends.close();
      const login = await api.post('/mirror/api/auth/login', { username: seed.username, password: seed.password });
      api.token = login.body.data.token as string;
    }
    return { server, api, seconds: (doneAt - spawnedAt) / 1000, secondsFromListening: (doneAt - listeningAt) / 1000 };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
