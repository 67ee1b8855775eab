/**
 * A real server for end-to-end tests, on the profile the vitest project names (MIRROR_TEST_PROFILE): embedded
 * (PGlite files in a temp DATA_DIR, in-process bus) or full (PostgreSQL event store, MariaDB read models, Redis),
 * each on throw-away databases. Log lines are kept so tests can read them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/api/logger.js';
import { parseConfig, type Config } from '../../src/cli/config.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/cli/compose.js';
import { REDIS_URL, dropRedisPrefix, freshMariaDatabase, freshPostgresDatabase, profile, type Profile, type TestDatabase } from './backends.js';


export interface TestBackends {
  env: Record<string, string>;
  dataDir: string;
  eventStoreDb?: TestDatabase;
  readDb?: TestDatabase;
  drop(): Promise<void>;
}

/** Fresh backends for one test file (or one benchmark run); `env` is what a server process needs to use them. */
export async function freshBackends(backendProfile: Profile = profile): Promise<TestBackends> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mirror-chat-test-'));
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'debug',
    PROJECTION_WAIT_MS: '10000',
    // Tests and the benchmark send far faster than a person; the rate limits' own tests set the limits they check.
    RATE_LIMIT_HTTP_MESSAGES_PER_MIN: '1000000',
    RATE_LIMIT_HTTP_WRITES_PER_MIN: '1000000',
    RATE_LIMIT_WS_FRAMES_PER_SEC: '1000000',
    RATE_LIMIT_TYPING_STARTS_PER_MIN: '1000000',
    RATE_LIMIT_LOGINS_PER_HOUR: '1000000',
    RATE_LIMIT_REGISTRATIONS_PER_HOUR: '1000000',
  };
  if (backendProfile === 'embedded') {
    return { env, dataDir, drop: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const [eventStoreDb, readDb] = await Promise.all([freshPostgresDatabase(), freshMariaDatabase()]);
  Object.assign(env, {
    EVENTSTORE_URL: eventStoreDb.url,
    READ_DB_URL: readDb.url,
    REDIS_URL,
    REDIS_PREFIX: `mirror-test-${randomBytes(6).toString('hex')}:`,
    MASTER_KEY: randomBytes(32).toString('base64'),
    JWT_SECRET: randomBytes(32).toString('hex'),
  });
  return {
    env,
    dataDir,
    eventStoreDb,
    readDb,
    async drop() {
      await Promise.all([eventStoreDb.drop(), readDb.drop(), dropRedisPrefix(env.REDIS_PREFIX!), rm(dataDir, { recursive: true, force: true })]);
    },
  };
}

export interface TestServer extends RunningServer {
  config: Config;
  backends: TestBackends;
  logs: string[];
  wsUrl: string;
  /** Stops the server and drops its backends. */
  stop(): Promise<void>;
}

export async function startTestServer(options: ServerOptions & { backends?: TestBackends } = {}): Promise<TestServer> {
  const backends = options.backends ?? (await freshBackends());
  const config = parseConfig(backends.env);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  // In-process, the projector stays on this thread: vitest's TypeScript does not reach a worker thread.
  const server = await startServer(config, createLogger(config.LOG_LEVEL, sink), { projectorThread: false, ...options });
  return {
    ...server,
    config,
    backends,
    logs,
    wsUrl: server.url.replace(/^http/, 'ws') + '/mirror/groups/chat',
    async stop() {
      await server.close();
      if (!options.backends) await backends.drop();
    },
  };
}
