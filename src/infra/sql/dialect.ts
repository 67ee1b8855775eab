import { MysqlAdapter, type Kysely } from 'kysely';

/** The two SQL flavours the read models and key store run on. PGlite speaks PostgreSQL. */
export type SqlFlavor = 'mysql' | 'postgres';

export function sqlFlavor(db: Kysely<any>): SqlFlavor {
  return db.getExecutor().adapter instanceof MysqlAdapter ? 'mysql' : 'postgres';
}

/** Column types whose names differ between the flavours. */
export function columnTypes(flavor: SqlFlavor) {
  return flavor === 'mysql'
    ? ({ binary: 'blob', timestamp: 'datetime(3)', json: 'longtext' } as const)
    : ({ binary: 'bytea', timestamp: 'timestamptz(3)', json: 'jsonb' } as const);
}

/** Whether an error is a unique-key violation, in either flavour. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; errno?: number };
  return e?.code === '23505' || e?.code === 'ER_DUP_ENTRY' || e?.errno === 1062;
}
