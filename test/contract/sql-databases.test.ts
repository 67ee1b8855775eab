/**
 * The read databases on a server: when the server cuts their idle connections (a restart, an operator, a proxy's idle
 * timeout), the next query is answered on a new one and the process carries on.
 */
import { sql, type Kysely } from 'kysely';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openMysqlDb } from '../../src/infra/sql/mysql/index.js';
import { openPostgresDb } from '../../src/infra/sql/postgres/index.js';
import { freshMariaDatabase, freshPostgresDatabase, type TestDatabase } from '../support/backends.js';

const servers: Array<{ name: string; fresh(): Promise<TestDatabase>; open(url: string): Kysely<any>; cutOthers(url: string): Promise<void> }> = [
  {
    name: 'PostgreSQL',
    fresh: freshPostgresDatabase,
    open: openPostgresDb,
    async cutOthers(url) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
      await admin.end();
    },
  },
  {
    name: 'MariaDB',
    fresh: freshMariaDatabase,
    open: openMysqlDb,
    async cutOthers(url) {
      const admin = await mysql.createConnection(url);
      const [others] = await admin.query<mysql.RowDataPacket[]>(
        'select id from information_schema.processlist where db = database() and id <> connection_id()',
      );
      for (const { id } of others) await admin.query('kill ?', [id]);
      await admin.end();
    },
  },
];

for (const server of servers) {
  describe(`read database on ${server.name}`, () => {
    it('answers the next query after the server has cut its idle connections', async () => {
      const database = await server.fresh();
      const db = server.open(database.url);
      try {
        await sql`select 1`.execute(db);
        await server.cutOthers(database.url);
        // The cut reaches the idle connection as an error event some moments later; unheard, it would end the process.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const { rows } = await sql<{ answer: number }>`select 42 as answer`.execute(db);
        expect(Number(rows[0]!.answer)).toBe(42);
      } finally {
        await db.destroy();
        await database.drop();
      }
    });
  });
}
