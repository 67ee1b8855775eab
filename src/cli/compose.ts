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
import { connectedAmong, startDelivery } from '../api/delivery.js';
import { createPresence } from '../api/presence.js';
import { createRateLimits } from '../api/rate-limits.js';
import { createTyping } from '../api/typing.js';
import { createCommands } from '../commands/index.js';
import { GroupEncryptionManager, KEYS_CHANGED_CHANNEL, kekIdOf } from '../infra/crypto/group-encryption-manager.js';
import { createMemoryEphemeralStore } from '../infra/ephemeral/memory/index.js';
import type { EphemeralStore } from '../infra/ephemeral/port.js';
import { openRedisEphemeralStore } from '../infra/ephemeral/redis/index.js';
import { openEsdbEventStore } from '../infra/event-store/esdb/index.js';
import type { EventStore } from '../infra/event-store/port.js';
import { createPgliteEventStore, openPostgresEventStore } from '../infra/event-store/postgres/index.js';
import { openPgBossQueue } from '../infra/jobs/pg-boss/index.js';
import type { JobQueue } from '../infra/jobs/port.js';
import { createSqlKeyStore } from '../infra/keys/sql/index.js';
import { createMemoryLeaderLock } from '../infra/locks/memory/index.js';
import { openMysqlLeaderLock } from '../infra/locks/mysql/index.js';
import type { LeaderLock } from '../infra/locks/port.js';
import { openPostgresLeaderLock } from '../infra/locks/postgres/index.js';
import { createMemoryPubSub } from '../infra/pubsub/memory/index.js';
import type { PubSub } from '../infra/pubsub/port.js';
import { openRedisPubSub } from '../infra/pubsub/redis/index.js';
import { createMemoryRateLimiter } from '../infra/rate-limits/memory/index.js';
import type { RateLimiter } from '../infra/rate-limits/port.js';
import { openRedisRateLimiter } from '../infra/rate-limits/redis/index.js';
import { openMysqlDb } from '../infra/sql/mysql/index.js';
import { openPgliteDb } from '../infra/sql/pglite/index.js';
import { openPostgresDb } from '../infra/sql/postgres/index.js';
import { migrateReadModels } from '../projections/migrations.js';
import { startProjector, type Projector } from '../projections/projector.js';
import { createProjectionWaiter } from '../projections/waiter.js';
import type { Config } from './config.js';
import { lockDataDir } from './data-dir-lock.js';
import { loadMasterKey } from './master-key.js';
import { canProjectInThread, startProjectorThread } from './projector-thread/index.js';
import { timeOrderedId } from '../infra/time-ordered-id.js';

export interface Backends {
  eventStore: EventStore;
  readDb: Kysely<any>;
  bus: PubSub;
  ephemeral: EphemeralStore;
  lock: LeaderLock;
  /** Background jobs (pg-boss), opened only when asked for: by the server, when offline delivery has a webhook. */
  jobs: JobQueue | null;
  crypto: GroupEncryptionManager;
  masterKey: Buffer;
  /** Names what each port runs on, for the start-up log line. */
  describe: Record<string, string>;
  close(): Promise<void>;
}

const isMysqlUrl = (url: string) => url.startsWith('mysql://') || url.startsWith('mariadb://');

/** `holder` names this process in the embedded profile's DATA_DIR lock, for whoever finds it held. */
export async function openBackends(config: Config, logger: Logger, holder = 'the server', options: { jobs?: boolean } = {}): Promise<Backends> {
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

    // pg-boss keeps to a schema of its own, so without QUEUE_URL a PostgreSQL database the deployment has serves.
    const queueUrl = config.QUEUE_URL ?? [esUrl, readUrl].find((url) => url?.startsWith('postgres'));
    const onJobsError = (err: Error) => logger.warn({ err }, 'jobs: pg-boss reported an error');
    const jobs = options.jobs ? await openPgBossQueue(queueUrl ? { url: queueUrl } : { pglite: await embedded() }, onJobsError) : null;
    if (jobs) closers.push(() => jobs.close());

    const describe = {
      eventStore: !esUrl ? 'pglite' : esUrl.startsWith('postgres') ? 'postgresql' : 'eventstoredb',
      readModels: !readUrl ? 'pglite' : isMysqlUrl(readUrl) ? 'mysql' : 'postgresql',
      pubsub: config.REDIS_URL ? 'redis' : 'in-process',
      ephemeral: config.REDIS_URL ? 'redis' : 'in-process',
      jobs: !jobs ? 'none' : queueUrl ? 'pg-boss on postgresql' : 'pg-boss on pglite',
    };
    return { eventStore, readDb, bus, ephemeral, lock, jobs, crypto, masterKey, describe, close };
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
  /**
   * Whether the projector may run in a thread of its own when every backend is a server (projector-thread/): yes,
   * but for tests that run the server inside their test runner, which cannot load the thread's TypeScript.
   */
  projectorThread?: boolean;
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

/** The limiter's state in Redis, shared by every process, with a per-process fallback while Redis is away. */
async function openRateLimiter(config: Config, logger: Logger): Promise<RateLimiter> {
  if (!config.REDIS_URL) return createMemoryRateLimiter();
  return openRedisRateLimiter(config.REDIS_URL, { prefix: config.REDIS_PREFIX, fallback: createMemoryRateLimiter(), logger });
}

export async function startServer(config: Config, logger: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const backends = await openBackends(config, logger, undefined, { jobs: config.DELIVERY_WEBHOOK_URL !== undefined });
  const { eventStore, readDb, bus, lock, crypto } = backends;
  const limiter = await openRateLimiter(config, logger).catch(async (error: unknown) => {
    await backends.close();
    throw error;
  });
  try {
    const rateLimits = createRateLimits(limiter, {
      httpMessages: { limit: config.RATE_LIMIT_HTTP_MESSAGES_PER_MIN, periodMs: 60_000 },
      httpWrites: { limit: config.RATE_LIMIT_HTTP_WRITES_PER_MIN, periodMs: 60_000 },
      wsFrames: { limit: config.RATE_LIMIT_WS_FRAMES_PER_SEC, periodMs: 1000 },
      typingStarts: { limit: config.RATE_LIMIT_TYPING_STARTS_PER_MIN, periodMs: 60_000 },
    });
    // Another process (`mirror-chat keys …`) rotated or shredded a scope: read its keys again before the next use.
    const stopForgetting = await bus.subscribe(KEYS_CHANGED_CHANNEL, (scope) => {
      crypto.forget(scope);
      logger.debug({ scope }, 'keys changed elsewhere; reading them again');
    });
    const projector: Projector =
      options.projectorThread !== false && canProjectInThread(config)
        ? await startProjectorThread(config, logger)
        : startProjector({ db: readDb, eventStore, crypto, bus, lock, logger, connected: connectedAmong(backends.ephemeral, logger) });
    const webhookUrl = config.DELIVERY_WEBHOOK_URL;
    const delivery = await startDelivery({
      read: { db: readDb, crypto },
      bus,
      logger,
      webhook:
        webhookUrl && backends.jobs
          ? {
              jobs: backends.jobs,
              config: {
                url: webhookUrl,
                secret: config.DELIVERY_WEBHOOK_SECRET,
                timeoutMs: config.DELIVERY_WEBHOOK_TIMEOUT_MS,
                retryLimit: config.DELIVERY_RETRY_LIMIT,
                retryDelaySeconds: config.DELIVERY_RETRY_DELAY_SECONDS,
              },
            }
          : null,
    });
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
      eventStore,
      waiter,
      tokens,
      bus,
      typing,
      presence,
      logger,
      projectionWaitMs: config.PROJECTION_WAIT_MS,
      allowedOrigins: config.CORS_ORIGINS,
      rateLimits,
      wsMaxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
      wsResumeMaxEvents: config.WS_RESUME_MAX_EVENTS,
      delivery,
      readiness: async () => ({
        readModels: await sql`select 1`.execute(readDb).then(() => true, () => false),
        eventStore: await eventStore.readAll(null, 1).then(() => true, () => false),
        ephemeral: await backends.ephemeral.ping().then(() => true, () => false),
        ...(backends.jobs ? { jobs: await backends.jobs.ping().then(() => true, () => false) } : {}),
      }),
    });
    const url = await app.listen({ port: config.PORT, host: config.HOST });
    logger.info({ url, ...backends.describe, rateLimits: config.REDIS_URL ? 'redis' : 'in-process' }, 'MirrorGroups Chat is listening');
    return {
      app,
      url,
      /**
       * The drain: new requests and upgrades are refused (503) at once; requests and frames already received finish,
       * each having waited for the projector to show its events; sockets close with 1001; then the projector commits
       * and publishes the batch it is on, and stops.
       */
      async close() {
        await app.close();
        await Promise.all([typing.close(), presence.close()]);
        await projector.stop();
        await delivery.close();
        await waiter.close();
        await stopForgetting();
        await limiter.close();
        await backends.close();
      },
    };
  } catch (error) {
    await limiter.close();
    await backends.close();
    throw error;
  }
}
