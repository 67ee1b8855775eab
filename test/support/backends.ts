/**
 * Real backends for tests: every test file gets its own throw-away database so files can run in parallel.
 * Under CI=true an unreachable backend fails the run instead of skipping anything.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const MARIADB_ADMIN_URL = process.env.TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type Profile = 'embedded' | 'full';
/** Which profile the vitest project runs (vitest.config.ts sets MIRROR_TEST_PROFILE). */
export const profile: Profile = process.env.MIRROR_TEST_PROFILE === 'full' ? 'full' : 'embedded';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

const uniqueName = () => `mirror_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function freshPostgresDatabase(): Promise<TestDatabase> {
  const name = uniqueName();
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(POSTGRES_ADMIN_URL, name),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function freshMariaDatabase(): Promise<TestDatabase> {
  const name = uniqueName();
  const admin = await mysql.createConnection(MARIADB_ADMIN_URL);
  try {
    await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(MARIADB_ADMIN_URL, name),
    async drop() {
      const conn = await mysql.createConnection(MARIADB_ADMIN_URL);
      try {
        await conn.query(`DROP DATABASE IF EXISTS ${name}`);
      } finally {
        await conn.end();
      }
    },
  };
}

/** Deletes every Redis key under `prefix`: presence and typing state a test server left behind. */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
