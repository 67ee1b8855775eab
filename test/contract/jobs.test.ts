import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openPgBossQueue } from '../../src/infra/jobs/pg-boss/index.js';
import { openPgliteDb } from '../../src/infra/sql/pglite/index.js';
import { freshPostgresDatabase } from '../support/backends.js';
import { tcpProxy } from '../support/tcp-proxy.js';
import { jobQueueContract } from './jobs.contract.js';

const failOnError = (error: Error) => {
  throw error;
};

jobQueueContract('pg-boss on PGlite', async () => {
  const db = await openPgliteDb();
  return { queue: await openPgBossQueue({ pglite: db }, failOnError), cleanup: () => db.destroy() };
});

jobQueueContract('pg-boss on PostgreSQL', async () => {
  const database = await freshPostgresDatabase();
  return { queue: await openPgBossQueue({ url: database.url }, failOnError), cleanup: () => database.drop() };
});

// Whoever closes the queue may drop or restart its database next, as the contract's cleanup does: a connection still
// closing would then be cut, and its error reported after the queue said it was done.
describe('pg-boss on PostgreSQL, closing', () => {
  it('has let go of every connection once close resolves, however slowly they close', async () => {
    const database = await freshPostgresDatabase();
    const slowNetwork = await tcpProxy(database.url, { lingerMs: 300 });
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const queue = await openPgBossQueue({ url: slowNetwork.url }, failOnError);
      await queue.declareQueue('closing', { retryLimit: 0, retryDelaySeconds: 1, deadLetter: 'closing-dead' });
      await queue.close();
      const { rows } = await admin.query(
        `select count(*)::int as open from pg_stat_activity where application_name = 'mirror-chat jobs' and datname = current_database()`,
      );
      expect(rows[0].open).toBe(0);
    } finally {
      await admin.end();
      await slowNetwork.cut();
      await database.drop();
    }
  });
});
