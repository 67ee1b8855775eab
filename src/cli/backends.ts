/**
 * The backends every command and the server open, chosen from validated configuration: each falls back to the embedded
 * one when its URL is unset — PGlite under DATA_DIR for the event store and the read models (one instance shared by
 * both), in-process pub/sub, locks and ephemeral state.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { GroupEncryptionManager, kekIdOf } from '../infra/crypto/group-encryption-manager.js';
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
import { openMysqlDb } from '../infra/sql/mysql/index.js';
import { openPgliteDb } from '../infra/sql/pglite/index.js';
import { openPostgresDb } from '../infra/sql/postgres/index.js';
import { migrateReadModels } from '../projections/migrations.js';
import type { Config } from './config.js';
import { lockDataDir } from './data-dir-lock.js';
import { loadMasterKey } from './master-key.js';

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
