/**
 * The write and read sides of one test file on the profile the vitest project names (MIRROR_TEST_PROFILE):
 * embedded — one in-memory PGlite shared by the event store, the read models and the key store, with in-process
 * pub/sub and lock — or full — a fresh PostgreSQL database for events, a fresh MariaDB database for read models and
 * keys, Redis pub/sub under a prefix of its own, and the MySQL lock.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import type { GroupEvent, MemberRole } from '../../src/domain/groups.js';
import type { MessageSent } from '../../src/domain/messages.js';
import type { UserRegistered } from '../../src/domain/users.js';
import { groupStreamId, sealEvent, type DomainEventShape } from '../../src/infra/crypto/event-sealing.js';
import { GroupEncryptionManager, kekIdOf } from '../../src/infra/crypto/group-encryption-manager.js';
import type { AppendResult, EventStore } from '../../src/infra/event-store/port.js';
import { createPgliteEventStore, openPostgresEventStore } from '../../src/infra/event-store/postgres/index.js';
import { createSqlKeyStore } from '../../src/infra/keys/sql/index.js';
import { createMemoryLeaderLock } from '../../src/infra/locks/memory/index.js';
import { openMysqlLeaderLock } from '../../src/infra/locks/mysql/index.js';
import type { LeaderLock } from '../../src/infra/locks/port.js';
import { createMemoryPubSub } from '../../src/infra/pubsub/memory/index.js';
import type { PubSub } from '../../src/infra/pubsub/port.js';
import { openRedisPubSub } from '../../src/infra/pubsub/redis/index.js';
import { openMysqlDb } from '../../src/infra/sql/mysql/index.js';
import { openPgliteDb } from '../../src/infra/sql/pglite/index.js';
import { BROADCAST_CHANNEL, decodeBroadcasts, type Broadcast } from '../../src/projections/broadcasts.js';
import { migrateReadModels } from '../../src/projections/migrations.js';
import { projectedPosition, startProjector, type Projector, type ProjectorDeps } from '../../src/projections/projector.js';
import { REDIS_URL, freshMariaDatabase, freshPostgresDatabase, profile } from './backends.js';


export interface ReadSide {
  /** The read models' database (in the embedded profile also the event store's and the keys'). */
  db: Kysely<any>;
  eventStore: EventStore;
  crypto: GroupEncryptionManager;
  bus: PubSub;
  lock: LeaderLock;
  /** What another server process would open: its own bus connection and lock client (embedded: the same ones). */
  openBus(): Promise<PubSub>;
  openLock(): LeaderLock;
  close(): Promise<void>;
}

export async function openReadSide(): Promise<ReadSide> {
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    let db: Kysely<any>;
    let eventStore: EventStore;
    let openBus: () => Promise<PubSub>;
    let openLock: () => LeaderLock;
    if (profile === 'embedded') {
      db = await openPgliteDb();
      closers.push(() => db.destroy());
      eventStore = await createPgliteEventStore(db);
      const bus = createMemoryPubSub();
      const lock = createMemoryLeaderLock();
      openBus = async () => bus;
      openLock = () => lock;
    } else {
      const [events, reads] = await Promise.all([freshPostgresDatabase(), freshMariaDatabase()]);
      closers.push(() => events.drop(), () => reads.drop());
      db = openMysqlDb(reads.url);
      closers.push(() => db.destroy());
      eventStore = await openPostgresEventStore(events.url);
      const prefix = `test-${randomUUID()}:`;
      openBus = async () => {
        const bus = await openRedisPubSub(REDIS_URL, { prefix });
        closers.push(() => bus.close());
        return bus;
      };
      openLock = () => openMysqlLeaderLock(reads.url);
    }
    closers.push(() => eventStore.close());
    await migrateReadModels(db);
    const kek = randomBytes(32);
    const crypto = new GroupEncryptionManager(await createSqlKeyStore(db, kekIdOf(kek)), kek);
    return { db, eventStore, crypto, bus: await openBus(), lock: openLock(), openBus, openLock, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** Starts a projector on the read side, quick to retry, logging into `logs`. */
export function projectorOn(side: ReadSide, overrides: Partial<ProjectorDeps> = {}): { projector: Projector; logs: LogEntry[] } {
  const logs: LogEntry[] = [];
  const log = (level: LogEntry['level']) => (fields: Record<string, unknown>, message: string) => logs.push({ level, fields, message });
  const projector = startProjector({
    db: side.db,
    eventStore: side.eventStore,
    crypto: side.crypto,
    bus: side.bus,
    lock: side.lock,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    retryMs: 100,
    ...overrides,
  });
  return { projector, logs };
}

/** For a whole test file: a read side with a projector running on it, handed to `use`, closed after the file. */
export function useProjectedReadSide(use: (side: ReadSide) => void): void {
  let side: ReadSide | undefined;
  let projector: Projector | undefined;
  beforeAll(async () => {
    side = await openReadSide();
    projector = projectorOn(side).projector;
    use(side);
  });
  afterAll(async () => {
    await projector?.stop();
    await side?.close();
  });
}

/** Every broadcast from now on, decoded, in the order published, as another server process would hear them. */
export async function listen(side: ReadSide): Promise<Broadcast[]> {
  const heard: Broadcast[] = [];
  const bus = await side.openBus();
  let decoded = Promise.resolve();
  await bus.subscribe(BROADCAST_CHANNEL, (wire) => {
    decoded = decoded.then(async () => {
      heard.push(...(await decodeBroadcasts(side.crypto, wire, (error) => { throw error; })));
    });
  });
  return heard;
}

/** Resolves once the read models have applied the event at `position`. */
export async function untilProjected(side: ReadSide, position: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await projectedPosition(side.db)) < position) {
    if (Date.now() > deadline) throw new Error(`read models did not reach ${position} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until `check` holds, polling; for effects that have no position to wait for. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Seals domain events and appends them, as the command layer does. */
export async function append(side: ReadSide, streamId: string, events: DomainEventShape[]): Promise<AppendResult> {
  const sealed = await Promise.all(events.map((event) => sealEvent(side.crypto, streamId, randomUUID(), event, {})));
  return side.eventStore.append(streamId, sealed, 'any');
}

let lastUserId = 0;

/** Registers a user with a fresh id and a name unique to this run. */
export async function seedUser(side: ReadSide, name = 'user'): Promise<{ userId: number; username: string; email: string; position: string }> {
  const userId = ++lastUserId;
  const username = `${name}_${randomBytes(3).toString('hex')}`;
  const email = `${username}@example.test`;
  const event: UserRegistered = {
    type: 'UserRegistered',
    data: { userId, username, email, passwordHash: `hash-of-${username}`, registeredAt: new Date().toISOString() },
  };
  const { position } = await append(side, 'users', [event]);
  return { userId, username, email, position };
}

/** Creates a group owned by `ownerId` with `members` added as plain members. */
export async function seedGroup(
  side: ReadSide,
  ownerId: number,
  members: number[] = [],
  name = 'Group',
): Promise<{ groupId: string; position: string }> {
  const groupId = randomUUID();
  const at = new Date().toISOString();
  const events: GroupEvent[] = [
    { type: 'GroupCreated', data: { groupId, name, ownerUserId: ownerId, createdAt: at } },
    { type: 'MemberAdded', data: { groupId, userId: ownerId, username: `user${ownerId}`, role: 'owner', addedBy: ownerId, addedAt: at } },
    ...members.map((userId) => ({
      type: 'MemberAdded' as const,
      data: { groupId, userId, username: `user${userId}`, role: 'member' as MemberRole, addedBy: ownerId, addedAt: at },
    })),
  ];
  const { position } = await append(side, groupStreamId(groupId), events);
  return { groupId, position };
}

/** A MessageSent event; `overrides` fill in threads, metadata and the like. */
export function messageSent(groupId: string, senderUserId: number, content: string, overrides: Partial<MessageSent['data']> = {}): MessageSent {
  return {
    type: 'MessageSent',
    data: {
      groupId,
      messageId: randomUUID(),
      senderUserId,
      content,
      contentType: 'text',
      parentMessageId: null,
      threadRootId: null,
      clientMessageId: null,
      metadata: null,
      sentAt: new Date().toISOString(),
      ...overrides,
    },
  };
}
