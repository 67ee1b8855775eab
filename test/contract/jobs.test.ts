import { openPgBossQueue } from '../../src/infra/jobs/pg-boss/index.js';
import { openPgliteDb } from '../../src/infra/sql/pglite/index.js';
import { freshPostgresDatabase } from '../support/backends.js';
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
