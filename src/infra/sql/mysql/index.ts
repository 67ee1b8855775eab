import { Kysely, MysqlDialect } from 'kysely';
import { createPool } from 'mysql2';

/** MySQL 8 / MariaDB 10.11+ read database. Times are UTC on the wire so both flavours agree. */
export function openMysqlDb(url: string): Kysely<any> {
  const pool = createPool({ uri: url, timezone: 'Z', charset: 'utf8mb4', connectionLimit: 10 });
  return new Kysely<any>({ dialect: new MysqlDialect({ pool }) });
}
