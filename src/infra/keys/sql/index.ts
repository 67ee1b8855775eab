import type { Kysely } from 'kysely';
import { columnTypes, isUniqueViolation, sqlFlavor } from '../../sql/dialect.js';
import type { KeyStore, WrappedKey } from '../port.js';

const TABLE = 'mirror_encryption_keys';

/** Wrapped keys in a SQL table of their own; the read models are rebuilt from events, this table never is. */
export async function createSqlKeyStore(db: Kysely<any>): Promise<KeyStore> {
  await db.schema
    .createTable(TABLE)
    .ifNotExists()
    .addColumn('scope', 'varchar(128)', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('wrapped', columnTypes(sqlFlavor(db)).binary, (c) => c.notNull())
    .addColumn('created_at', columnTypes(sqlFlavor(db)).timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('mirror_encryption_keys_pk', ['scope', 'version'])
    .execute();

  return {
    async versions(scope) {
      const rows = await db.selectFrom(TABLE).select(['scope', 'version', 'wrapped']).where('scope', '=', scope).orderBy('version').execute();
      return rows.map((r) => ({ scope: r.scope, version: Number(r.version), wrapped: new Uint8Array(r.wrapped) }));
    },
    async insert(key: WrappedKey) {
      try {
        await db
          .insertInto(TABLE)
          .values({ scope: key.scope, version: key.version, wrapped: Buffer.from(key.wrapped), created_at: new Date() })
          .execute();
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },
  };
}
