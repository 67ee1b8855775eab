import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

const INT8_OID = 20;

/** A PostgreSQL database over node-postgres. bigint columns hold counters and revisions that fit a JS number. */
export function openPostgresDb(url: string, max = 10): Kysely<any> {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // A connection the server cuts while idle (a restart, an operator, a proxy's timeout) is dropped by the pool and
  // replaced on next use; unheard, its error event would end the process.
  pool.on('error', () => {});
  return new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
}
