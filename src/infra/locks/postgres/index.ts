import pg from 'pg';
import type { LeaderLock } from '../port.js';
import { DEFAULT_CHECK_INTERVAL_MS, sessionLease } from '../session-lease.js';

/**
 * Session-level advisory locks (per database) on a pg.Client of its own: a pooled connection would hand the lock to
 * whoever borrows it next. The name is hashed to the lock's 64-bit key.
 */
export function openPostgresLeaderLock(url: string, options: { checkIntervalMs?: number } = {}): LeaderLock {
  const checkIntervalMs = options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS;

  return {
    async tryAcquire(name) {
      const client = new pg.Client({ connectionString: url, query_timeout: checkIntervalMs });
      let broken = () => {};
      client.on('error', () => broken());
      client.on('end', () => broken());
      try {
        await client.connect();
        const { rows } = await client.query<{ acquired: boolean }>(
          'select pg_try_advisory_lock(hashtextextended($1, 0)) as acquired',
          [name],
        );
        if (!rows[0]?.acquired) {
          await client.end();
          return null;
        }
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      return sessionLease(
        {
          async holds() {
            // pg_locks splits a bigint advisory key into classid (high half) and objid (low half).
            const { rows } = await client.query<{ held: boolean }>(
              `select exists (
                 select 1 from pg_locks
                 where locktype = 'advisory' and pid = pg_backend_pid() and granted and objsubid = 1
                   and ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)
               ) as held`,
              [name],
            );
            return rows[0]?.held === true;
          },
          async release() {
            await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [name]);
            await client.end();
          },
          destroy: () => void client.end().catch(() => {}),
          onBroken: (listener) => (broken = listener),
        },
        checkIntervalMs,
      );
    },
  };
}
