import mysql from 'mysql2/promise';
import pg from 'pg';
import { createMemoryLeaderLock } from '../../src/infra/locks/memory/index.js';
import { openMysqlLeaderLock } from '../../src/infra/locks/mysql/index.js';
import { openPostgresLeaderLock } from '../../src/infra/locks/postgres/index.js';
import { freshMariaDatabase, freshPostgresDatabase } from '../support/backends.js';
import { leaderLockContract } from './locks.contract.js';

// Short enough that a lost lease shows within the test's patience.
const checkIntervalMs = 200;

leaderLockContract(
  'memory',
  async () => {
    const lock = createMemoryLeaderLock();
    return { open: () => lock, checkIntervalMs, cleanup: async () => {} };
  },
  { killable: false },
);

leaderLockContract(
  'mysql',
  async () => {
    const database = await freshMariaDatabase();
    return {
      open: () => openMysqlLeaderLock(database.url, { checkIntervalMs }),
      checkIntervalMs,
      async killHolder(name) {
        const admin = await mysql.createConnection(database.url);
        try {
          const [rows] = await admin.query<mysql.RowDataPacket[]>("select is_used_lock(concat(database(), '.', ?)) as holder", [name]);
          await admin.query(`kill ${Number(rows[0]!.holder)}`);
        } finally {
          await admin.end();
        }
      },
      cleanup: () => database.drop(),
    };
  },
  { killable: true },
);

leaderLockContract(
  'postgres',
  async () => {
    const database = await freshPostgresDatabase();
    return {
      open: () => openPostgresLeaderLock(database.url, { checkIntervalMs }),
      checkIntervalMs,
      async killHolder(name) {
        const admin = new pg.Client({ connectionString: database.url });
        await admin.connect();
        try {
          await admin.query(
            `select pg_terminate_backend(pid) from pg_locks
             where locktype = 'advisory' and objsubid = 1
               and ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
            [name],
          );
        } finally {
          await admin.end();
        }
      },
      cleanup: () => database.drop(),
    };
  },
  { killable: true },
);
