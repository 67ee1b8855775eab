import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { LeaderLock } from '../port.js';
import { DEFAULT_CHECK_INTERVAL_MS, sessionLease } from '../session-lease.js';

/** MySQL refuses lock names longer than this. */
const MAX_LOCK_NAME = 64;

/**
 * GET_LOCK on a connection of its own (never a pooled one, which would hand the lock to whoever borrows it next).
 * Named locks are server-wide, so the name is qualified by the database: two deployments, or two test databases, on
 * one server do not exclude each other.
 */
export function openMysqlLeaderLock(url: string, options: { checkIntervalMs?: number } = {}): LeaderLock {
  const checkIntervalMs = options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS;
  const database = decodeURIComponent(new URL(url).pathname.slice(1));

  return {
    async tryAcquire(name) {
      const lockName = qualifiedName(database, name);
      const connection = await mysql.createConnection({ uri: url });
      let broken = () => {};
      connection.on('error', () => broken());
      connection.on('end', () => broken());
      try {
        const [rows] = await connection.query<mysql.RowDataPacket[]>('select get_lock(?, 0) as acquired', [lockName]);
        if (rows[0]?.acquired !== 1) {
          await connection.end();
          return null;
        }
      } catch (error) {
        connection.destroy();
        throw error;
      }
      return sessionLease(
        {
          async holds() {
            const [rows] = await connection.query<mysql.RowDataPacket[]>({
              sql: 'select is_used_lock(?) = connection_id() as held',
              values: [lockName],
              timeout: checkIntervalMs,
            });
            return rows[0]?.held === 1;
          },
          async release() {
            await connection.query('select release_lock(?)', [lockName]);
            await connection.end();
          },
          destroy: () => connection.destroy(),
          onBroken: (listener) => (broken = listener),
        },
        checkIntervalMs,
      );
    },
  };
}

function qualifiedName(database: string, name: string): string {
  const qualified = `${database}.${name}`;
  return qualified.length <= MAX_LOCK_NAME ? qualified : createHash('sha256').update(qualified).digest('hex');
}
