/**
 * Jobs on pg-boss: on a PostgreSQL server (its own pool), or on the embedded profile's PGlite through pg-boss's `db`
 * option, so both profiles run the same queue code. pg-boss keeps to its own schema (`pgboss`); a job id is the
 * table's key, which is what makes sending a job twice harmless.
 */
import type { Kysely } from 'kysely';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { runSql } from '../../sql/pglite/index.js';
import type { Job, JobQueue } from '../port.js';

/** Jobs a worker takes at once and runs side by side: a handler waits mostly on the network. */
const BATCH_SIZE = 10;
/** How often an idle worker looks for jobs, and so how late past its time a retry may start. pg-boss allows 0.5 s at least. */
const POLL_SECONDS = 1;
/** How long stopping waits for the jobs in hand. */
const STOP_TIMEOUT_MS = 15_000;

export type PgBossDatabase = { url: string } | { pglite: Kysely<any> };

export async function openPgBossQueue(database: PgBossDatabase, onError: (error: Error) => void): Promise<JobQueue> {
  const connection = 'url' in database ? serverConnection(database.url, onError) : pgliteConnection(database.pglite);
  const boss = new PgBoss({ db: { executeSql: connection.executeSql }, pollingIntervalSeconds: POLL_SECONDS });
  // Worker and maintenance errors come as events; unheard, an 'error' event would end the process.
  boss.on('error', onError);
  await boss.start().catch(async (error: unknown) => {
    await connection.end();
    throw error;
  });
  /** This process's workers by queue, woken when this process sends to it rather than at their next poll. */
  const workers = new Map<string, string[]>();

  return {
    async declareQueue(name, policy) {
      const options = {
        name,
        retryLimit: policy.retryLimit,
        retryDelay: policy.retryDelaySeconds,
        retryBackoff: true,
        deadLetter: policy.deadLetter,
      };
      await boss.createQueue(policy.deadLetter);
      // Creating leaves an existing queue as it was: the update carries a changed configuration over.
      await boss.createQueue(name, options);
      await boss.updateQueue(name, options);
    },

    async send(queue, jobs) {
      if (jobs.length === 0) return;
      await boss.insert(jobs.map((job) => ({ id: job.id, name: queue, data: job.data })));
      for (const id of workers.get(queue) ?? []) boss.notifyWorker(id);
    },

    async work<T>(queue: string, handler: (job: Job<T>) => Promise<void>) {
      const id: string = await boss.work<T>(queue, { batchSize: BATCH_SIZE, includeMetadata: true }, async (jobs) => {
        const outcomes = await Promise.allSettled(
          jobs.map((job) => handler({ id: job.id, data: job.data, attempt: job.retryCount + 1, lastAttempt: job.retryCount >= job.retryLimit })),
        );
        // pg-boss settles a batch as a whole by the handler's outcome: each failed job is failed here on its own
        // (retried or dead-lettered), and the rest complete when this returns.
        for (const [i, outcome] of outcomes.entries()) {
          if (outcome.status === 'rejected') await boss.fail(queue, jobs[i]!.id, { message: String(outcome.reason?.message ?? outcome.reason) });
        }
        // A full batch says more may be waiting: fetch again at once instead of after the poll interval.
        if (jobs.length === BATCH_SIZE) boss.notifyWorker(id);
      });
      workers.set(queue, [...(workers.get(queue) ?? []), id]);
    },

    async ping() {
      await boss.getDb().executeSql('select 1', []);
    },

    async close() {
      await boss.stop({ graceful: true, wait: true, timeout: STOP_TIMEOUT_MS });
      await connection.end();
    },
  };
}

/** How pg-boss reaches its database (its `db` option), and how closing the queue lets go of it. */
interface QueueConnection {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
}

/** The embedded profile's PGlite, which the caller opened and closes. */
function pgliteConnection(pglite: Kysely<any>): QueueConnection {
  return { executeSql: (text, values) => runSql(pglite, text, values), end: async () => {} };
}

/**
 * The queue's own connections to a PostgreSQL server. pg's `pool.end()` resolves once it has asked its connections to
 * close, not once they have (brianc/node-postgres#2328): ending here waits for the last one, so that whoever closes the
 * queue and then drops or restarts the database is not answered by a connection still saying goodbye.
 */
function serverConnection(url: string, onError: (error: Error) => void): QueueConnection {
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'mirror-chat jobs' });
  const open = new Set<unknown>();
  pool.on('connect', (client) => open.add(client));
  pool.on('remove', (client) => open.delete(client));
  pool.on('error', onError);
  return {
    executeSql: (text, values) => pool.query(text, values),
    async end() {
      const allClosed = new Promise<void>((resolve) => {
        const check = () => open.size === 0 && resolve();
        pool.on('remove', check);
        check();
      });
      await pool.end();
      await allClosed;
    },
  };
}
