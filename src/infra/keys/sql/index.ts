import { Migrator, type Kysely, type Migration, type Transaction } from 'kysely';
import { columnTypes, isUniqueViolation, sqlFlavor } from '../../sql/dialect.js';
import type { KeyStore, WrappedKey } from '../port.js';

const KEYS = 'mirror_encryption_keys';
/** One row per scope that has ever had a key: the row every change to the scope's versions locks, and its shred tombstone. */
const SCOPES = 'mirror_encryption_scopes';

/** `currentKekId`: the KEK that wrapped the keys stored before key rows recorded their KEK (only it could open them). */
function migrations(currentKekId: string): Record<string, Migration> {
  return {
    // The table as earlier versions created it, outside any migrator: a no-op where they did.
    '0001_keys': {
      async up(db) {
        const types = columnTypes(sqlFlavor(db));
        await db.schema
          .createTable(KEYS)
          .ifNotExists()
          .addColumn('scope', 'varchar(128)', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('wrapped', types.binary, (c) => c.notNull())
          .addColumn('created_at', types.timestamp, (c) => c.notNull())
          .addPrimaryKeyConstraint('mirror_encryption_keys_pk', ['scope', 'version'])
          .execute();
      },
    },
    '0002_kek_ids_uses_shreds': {
      async up(db) {
        const flavor = sqlFlavor(db);
        await db.schema.alterTable(KEYS).addColumn('kek_id', 'varchar(32)').execute();
        await db.updateTable(KEYS).set({ kek_id: currentKekId }).execute();
        await (flavor === 'mysql'
          ? db.schema.alterTable(KEYS).modifyColumn('kek_id', 'varchar(32)', (c) => c.notNull())
          : db.schema.alterTable(KEYS).alterColumn('kek_id', (c) => c.setNotNull())
        ).execute();
        await db.schema.alterTable(KEYS).addColumn('uses', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema
          .createTable(SCOPES)
          .addColumn('scope', 'varchar(128)', (c) => c.primaryKey())
          .addColumn('shredded_at', columnTypes(flavor).timestamp)
          .execute();
      },
    },
  };
}

const toKey = (r: { scope: string; version: number | string; wrapped: Uint8Array; kek_id: string }): WrappedKey => ({
  scope: r.scope,
  version: Number(r.version),
  wrapped: new Uint8Array(r.wrapped),
  kekId: r.kek_id,
});

/**
 * Wrapped keys in SQL tables of their own beside the read models (which are rebuilt from events; these never are).
 * `currentKekId` labels keys from before KEK ids were recorded, on the first open after the upgrade.
 */
export async function createSqlKeyStore(db: Kysely<any>, currentKekId: string): Promise<KeyStore> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(currentKekId) },
    migrationTableName: 'mirror_key_migrations',
    migrationLockTableName: 'mirror_key_migrations_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;

  /**
   * Runs `change` holding the scope's row lock, so that adding a version and shredding never interleave: a key
   * written after a shred would otherwise survive it.
   */
  async function withScopeLocked<T>(scope: string, change: (trx: Transaction<any>, shredded: boolean) => Promise<T>): Promise<T> {
    try {
      await db.insertInto(SCOPES).values({ scope, shredded_at: null }).execute();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    return db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom(SCOPES).select('shredded_at').where('scope', '=', scope).forUpdate().executeTakeFirstOrThrow();
      return change(trx, row.shredded_at !== null);
    });
  }

  return {
    async versions(scope) {
      const rows = await db.selectFrom(KEYS).select(['scope', 'version', 'wrapped', 'kek_id']).where('scope', '=', scope).orderBy('version').execute();
      return rows.map(toKey);
    },

    async insert(key) {
      return withScopeLocked(key.scope, async (trx, shredded) => {
        if (shredded) return false;
        const existing = await trx.selectFrom(KEYS).select('version').where('scope', '=', key.scope).where('version', '=', key.version).executeTakeFirst();
        if (existing) return false;
        await trx
          .insertInto(KEYS)
          .values({ scope: key.scope, version: key.version, wrapped: Buffer.from(key.wrapped), kek_id: key.kekId, uses: 0, created_at: new Date() })
          .execute();
        return true;
      });
    },

    async reserve(scope, version, n) {
      return db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable(KEYS)
          .set((eb) => ({ uses: eb('uses', '+', n) }))
          .where('scope', '=', scope)
          .where('version', '=', version)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) return null;
        // The row stays locked until commit, so this reads this transaction's own total.
        const row = await trx.selectFrom(KEYS).select('uses').where('scope', '=', scope).where('version', '=', version).executeTakeFirstOrThrow();
        return Number(row.uses);
      });
    },

    async shred(scope) {
      await withScopeLocked(scope, async (trx, shredded) => {
        // A second shred keeps the first one's time.
        if (!shredded) await trx.updateTable(SCOPES).set({ shredded_at: new Date() }).where('scope', '=', scope).execute();
        await trx.deleteFrom(KEYS).where('scope', '=', scope).execute();
      });
    },

    async isShredded(scope) {
      const row = await db.selectFrom(SCOPES).select('shredded_at').where('scope', '=', scope).executeTakeFirst();
      return row?.shredded_at != null;
    },

    async all() {
      const rows = await db.selectFrom(KEYS).select(['scope', 'version', 'wrapped', 'kek_id']).orderBy('scope').orderBy('version').execute();
      return rows.map(toKey);
    },

    async rewrap(keys) {
      await db.transaction().execute(async (trx) => {
        for (const key of keys) {
          await trx
            .updateTable(KEYS)
            .set({ wrapped: Buffer.from(key.wrapped), kek_id: key.kekId })
            .where('scope', '=', key.scope)
            .where('version', '=', key.version)
            .execute();
        }
      });
    },
  };
}
