/**
 * The composition root: the only place that chooses adapters, from validated configuration. Each backend falls back
 * to the embedded one when its URL is unset: PGlite under DATA_DIR for the event store and the read models (one
 * instance shared by both), in-process pub/sub, locks and ephemeral state.
 */
import { hkdfSync } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { buildApp } from '../api/app.js';
import { createTokenService } from '../api/auth/tokens.js';
import { createBroadcaster } from '../api/broadcaster.js';
import { createPresence } from '../api/presence.js';
import { createTyping } from '../api/typing.js';
import { createCommands } from '../commands/index.js';
import { GroupEncryptionManager, KEYS_CHANGED_CHANNEL, kekIdOf } from '../infra/crypto/group-encryption-manager.js';
import { createMemoryEphemeralStore } from '../infra/ephemeral/memory/index.js';
import type { EphemeralStore } from '../infra/ephemeral/port.js';
import { openRedisEphemeralStore } from '../infra/ephemeral/redis/index.js';
import { openEsdbEventStore } from '../infra/event-store/esdb/index.js';
import type { EventStore } from '../infra/event-store/port.js';
import { createPgliteEventStore, openPostgresEventStore } from '../infra/event-store/postgres/index.js';
import { createSqlKeyStore } from '../infra/keys/sql/index.js';
import { createMemoryLeaderLock } from '../infra/locks/memory/index.js';
import { openMysqlLeaderLock } from '../infra/locks/mysql/index.js';
import type { LeaderLock } from '../infra/locks/port.js';
import { openPostgresLeaderLock } from '../infra/locks/postgres/index.js';
import { createMemoryPubSub } from '../infra/pubsub/memory/index.js';
import type { PubSub } from '../infra/pubsub/port.js';
import { openRedisPubSub } from '../infra/pubsub/redis/index.js';
import { openMysqlDb } from '../infra/sql/mysql/index.js';
import { openPgliteDb } from '../infra/sql/pglite/index.js';
import { openPostgresDb } from '../infra/sql/postgres/index.js';
import { migrateReadModels } from '../projections/migrations.js';
import { startProjector } from '../projections/projector.js';
import { createProjectionWaiter } from '../projections/waiter.js';
import type { Config } from './config.js';
import { lockDataDir } from './data-dir-lock.js';
import { loadMasterKey } from './master-key.js';
import { timeOrderedId } from '../infra/time-ordered-id.js';

export interface Backends {
  eventStore: EventStore;
  readDb: Kysely<any>;
  bus: PubSub;
  ephemeral: EphemeralStore;
  lock: LeaderLock;
  crypto: GroupEncryptionManager;
  masterKey: Buffer;
  /** Names what each port runs on, for the start-up log line. */
  describe: Record<string, string>;
  close(): Promise<void>;
}

const isMysqlUrl = (url: string) => url.startsWith('mysql://') || url.startsWith('mariadb://');

/** `holder` names this process in the embedded profile's DATA_DIR lock, for whoever finds it held. */
export async function openBackends(config: Config, logger: Logger, holder = 'the server'): Promise<Backends> {
  const dataDir = resolve(config.DATA_DIR);
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch((err: unknown) => logger.warn({ err }, 'closing a backend failed'));
  };
  try {
    let pglite: Kysely<any> | undefined;
    const embedded = async () => {
      if (!pglite) {
        await mkdir(dataDir, { recursive: true });
        const dataDirLock = await lockDataDir(dataDir, holder);
        closers.push(() => dataDirLock.release());
        pglite = await openPgliteDb(join(dataDir, 'pglite'));
        const db = pglite;
        closers.push(() => db.destroy());
        logger.info({ dataDir }, 'embedded database (PGlite) opened');
      }
      return pglite;
    };

    const readUrl = config.READ_DB_URL?.replace(/^mariadb:/, 'mysql:');
    const readDb = readUrl ? (isMysqlUrl(readUrl) ? openMysqlDb(readUrl) : openPostgresDb(readUrl)) : await embedded();
    if (readUrl) closers.push(() => readDb.destroy());

    const esUrl = config.EVENTSTORE_URL;
    const eventStore = !esUrl
      ? await createPgliteEventStore(await embedded())
      : esUrl.startsWith('postgres')
        ? await openPostgresEventStore(esUrl)
        : await openEsdbEventStore(esUrl);
    closers.push(() => eventStore.close());

    await migrateReadModels(readDb);
    const masterKey = await loadMasterKey(config.MASTER_KEY, dataDir, logger);
    const previousKeks = config.MASTER_KEY_PREVIOUS.map((key) => Buffer.from(key, 'base64'));
    const crypto = new GroupEncryptionManager(await createSqlKeyStore(readDb, kekIdOf(masterKey)), masterKey, { previousKeks });
    closers.push(() => crypto.settle());
    if (previousKeks.length > 0) {
      const rewrapped = await crypto.rewrapPrevious();
      if (rewrapped > 0) logger.info({ rewrapped }, 're-wrapped data keys still under a previous master key');
    }

    const bus = config.REDIS_URL ? await openRedisPubSub(config.REDIS_URL, { prefix: config.REDIS_PREFIX }) : createMemoryPubSub();
    closers.push(() => bus.close());
    const ephemeral = config.REDIS_URL
      ? await openRedisEphemeralStore(config.REDIS_URL, { prefix: config.REDIS_PREFIX })
      : createMemoryEphemeralStore();
    closers.push(() => ephemeral.close());

    const lock = !readUrl ? createMemoryLeaderLock() : isMysqlUrl(readUrl) ? openMysqlLeaderLock(readUrl) : openPostgresLeaderLock(readUrl);

    const describe = {
      eventStore: !esUrl ? 'pglite' : esUrl.startsWith('postgres') ? 'postgresql' : 'eventstoredb',
      readModels: !readUrl ? 'pglite' : isMysqlUrl(readUrl) ? 'mysql' : 'postgresql',
      pubsub: config.REDIS_URL ? 'redis' : 'in-process',
      ephemeral: config.REDIS_URL ? 'redis' : 'in-process',
    };
    return { eventStore, readDb, bus, ephemeral, lock, crypto, masterKey, describe, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export interface ServerOptions {
  /** Tests move time forward; everything else uses the wall clock. */
  clock?: () => Date;
  /** How long a typing indicator lasts after the last start: the guide's 5 s unless a test shortens it. */
  typingMs?: number;
  /** How long after their last connection closes a user goes offline: 10 s unless a test shortens it. */
  presenceGraceMs?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  /** http://host:port the server listens on. */
  url: string;
  close(): Promise<void>;
}

/** Derives the JWT signing key from the master key unless one is configured, so every process agrees on it. */
function jwtSecret(config: Config, masterKey: Buffer): Uint8Array {
  if (config.JWT_SECRET) return Buffer.from(config.JWT_SECRET, 'utf8');
  return new Uint8Array(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'mirror-chat/jwt-hs256', 32));
}

export async function startServer(config: Config, logger: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const backends = await openBackends(config, logger);
  const { eventStore, readDb, bus, lock, crypto } = backends;
  try {
    // Another process (`mirror-chat keys …`) rotated or shredded a scope: read its keys again before the next use.
    const stopForgetting = await bus.subscribe(KEYS_CHANGED_CHANNEL, (scope) => {
      crypto.forget(scope);
      logger.debug({ scope }, 'keys changed elsewhere; reading them again');
    });
    const projector = startProjector({ db: readDb, eventStore, crypto, bus, lock, logger });
    const waiter = createProjectionWaiter({ db: readDb, bus });
    const ephemeralDeps = { ephemeral: backends.ephemeral, read: { db: readDb, crypto }, broadcast: createBroadcaster({ bus, crypto }), logger };
    const typing = createTyping(ephemeralDeps, options.typingMs);
    const presence = createPresence(ephemeralDeps, { graceMs: options.presenceGraceMs });
    const commands = createCommands({ eventStore, crypto, clock: options.clock ?? (() => new Date()), newId: () => timeOrderedId() });
    const tokens = createTokenService({
      secret: jwtSecret(config, backends.masterKey),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.JWT_TTL_SECONDS,
    });
    const app = await buildApp({
      commands,
      read: { db: readDb, crypto },
      waiter,
      tokens,
      bus,
      typing,
      presence,
      logger,
      projectionWaitMs: config.PROJECTION_WAIT_MS,
      allowedOrigins: config.CORS_ORIGINS,
      readiness: async () => ({
        readModels: await sql`select 1`.execute(readDb).then(() => true, () => false),
        eventStore: await eventStore.readAll(null, 1).then(() => true, () => false),
        ephemeral: await backends.ephemeral.ping().then(() => true, () => false),
      }),
    });
    const url = await app.listen({ port: config.PORT, host: config.HOST });
    logger.info({ url, ...backends.describe }, 'MirrorGroups Chat is listening');
    return {
      app,
      url,
      async close() {
        await app.close();
        await Promise.all([typing.close(), presence.close()]);
        await projector.stop();
        await waiter.close();
        await stopForgetting();
        await backends.close();
      },
    };
  } catch (error) {
    await backends.close();
    throw error;
  }
}
