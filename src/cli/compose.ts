/**
 * The composition root of `serve`: the server's parts put together on the backends (backends.ts), which are the only
 * place that chooses adapters.
 */
import { hkdfSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
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
import { KEYS_CHANGED_CHANNEL } from '../infra/crypto/group-encryption-manager.js';
import { createMemoryRateLimiter } from '../infra/rate-limits/memory/index.js';
import type { RateLimiter } from '../infra/rate-limits/port.js';
import { openRedisRateLimiter } from '../infra/rate-limits/redis/index.js';
import { startProjector, type Projector } from '../projections/projector.js';
import { getUser } from '../projections/queries/users.js';
import { createProjectionWaiter } from '../projections/waiter.js';
import type { Config } from './config.js';
import { timeOrderedId } from '../infra/time-ordered-id.js';
import { openBackends } from './backends.js';
import { canProjectInThread, spawnProjectorThread } from './projector-thread/index.js';

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
  const clock = options.clock ?? (() => new Date());
  const thread = options.projectorThread !== false && canProjectInThread(config) ? spawnProjectorThread(config, logger) : null;
  const backends = await openBackends(config, logger, undefined, { jobs: config.DELIVERY_WEBHOOK_URL !== undefined }).catch(async (error: unknown) => {
    await thread?.abandon();
    throw error;
  });
  const { eventStore, readDb, bus, lock, crypto } = backends;
  const limiter = await openRateLimiter(config, logger).catch(async (error: unknown) => {
    await thread?.abandon();
    await backends.close();
    throw error;
  });
  try {
    const rateLimits = createRateLimits(limiter, {
      httpMessages: { limit: config.RATE_LIMIT_HTTP_MESSAGES_PER_MIN, periodMs: 60_000 },
      httpWrites: { limit: config.RATE_LIMIT_HTTP_WRITES_PER_MIN, periodMs: 60_000 },
      wsFrames: { limit: config.RATE_LIMIT_WS_FRAMES_PER_SEC, periodMs: 1000 },
      typingStarts: { limit: config.RATE_LIMIT_TYPING_STARTS_PER_MIN, periodMs: 60_000 },
      logins: { limit: config.RATE_LIMIT_LOGINS_PER_HOUR, periodMs: 3_600_000 },
      registrations: { limit: config.RATE_LIMIT_REGISTRATIONS_PER_HOUR, periodMs: 3_600_000 },
    });
    // Another process (`mirror-chat keys …`) rotated or shredded a scope: read its keys again before the next use.
    const stopForgetting = await bus.subscribe(KEYS_CHANGED_CHANNEL, (scope) => {
      crypto.forget(scope);
      logger.debug({ scope }, 'keys changed elsewhere; reading them again');
    });
    const projector: Projector = thread
      ? await thread.start()
      : startProjector({ db: readDb, eventStore, crypto, bus, lock, logger, connected: connectedAmong(backends.ephemeral, logger) });
    const webhookUrl = config.DELIVERY_WEBHOOK_URL;
    const delivery = await startDelivery({
      read: { db: readDb, crypto },
      bus,
      logger,
      retentionMs: config.DELIVERY_RETENTION_DAYS * 24 * 3600 * 1000,
      clock,
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
    const commands = createCommands({ eventStore, crypto, clock, newId: () => timeOrderedId() });
    const tokens = createTokenService({
      secret: jwtSecret(config, backends.masterKey),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.JWT_TTL_SECONDS,
      usernameOf: async (id) => (await getUser({ db: readDb }, id))?.username ?? null,
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
      trustedProxies: config.TRUST_PROXY,
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
    await thread?.abandon();
    await limiter.close();
    await backends.close();
    throw error;
  }
}
