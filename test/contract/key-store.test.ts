import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqlKeyStore } from '../../src/infra/keys/sql/index.js';
import { columnTypes, sqlFlavor } from '../../src/infra/sql/dialect.js';
import { openMysqlDb } from '../../src/infra/sql/mysql/index.js';
import { openPgliteDb } from '../../src/infra/sql/pglite/index.js';
import { openPostgresDb } from '../../src/infra/sql/postgres/index.js';
import { freshMariaDatabase, freshPostgresDatabase } from '../support/backends.js';
import { keyStoreContract } from './key-store.contract.js';

/** A SQL database the key store can live in; `connect` opens another client of it, as another process would. */
interface SqlDatabase {
  connect(): Kysely<any>;
  drop(): Promise<void>;
}

const opened: Kysely<any>[] = [];
const databases: SqlDatabase[] = [];
afterAll(async () => {
  await Promise.all(opened.map((db) => db.destroy()));
  await Promise.all(databases.map((d) => d.drop()));
});

const flavours: Record<string, () => Promise<SqlDatabase>> = {
  // PGlite lives in one process: every "client" is the one instance.
  PGlite: async () => {
    const db = await openPgliteDb();
    return { connect: () => db, drop: async () => {} };
  },
  PostgreSQL: async () => {
    const database = await freshPostgresDatabase();
    return { connect: () => openPostgresDb(database.url), drop: () => database.drop() };
  },
  MariaDB: async () => {
    const database = await freshMariaDatabase();
    return { connect: () => openMysqlDb(database.url), drop: () => database.drop() };
  },
};

async function freshDatabase(flavour: string): Promise<SqlDatabase> {
  const database = await flavours[flavour]!();
  databases.push(database);
  return {
    connect() {
      const db = database.connect();
      if (!opened.includes(db)) opened.push(db);
      return db;
    },
    drop: database.drop,
  };
}

for (const flavour of Object.keys(flavours)) {
  keyStoreContract(flavour, async () => {
    const database = await freshDatabase(flavour);
    return { open: () => createSqlKeyStore(database.connect(), 'kek-current'), cleanup: async () => {} };
  });

  describe(`SQL key store on ${flavour}`, () => {
    it('sets itself up when several processes open an empty database at once', async () => {
      const database = await freshDatabase(flavour);
      const stores = await Promise.all([1, 2, 3].map(() => createSqlKeyStore(database.connect(), 'kek-current')));
      const key = { scope: 'group:g', version: 1, wrapped: new Uint8Array(randomBytes(60)), kekId: 'kek-current' };
      expect(await stores[0]!.insert(key)).toBe(true);
      expect(await stores[2]!.versions('group:g')).toEqual([key]);
    });

    it('upgrades a table of an earlier version in place: keys kept, labelled with the current KEK, counted from zero', async () => {
      const database = await freshDatabase(flavour);
      const db = database.connect();
      // The table exactly as the first release created it.
      const types = columnTypes(sqlFlavor(db));
      await db.schema
        .createTable('mirror_encryption_keys')
        .addColumn('scope', 'varchar(128)', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('wrapped', types.binary, (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('mirror_encryption_keys_pk', ['scope', 'version'])
        .execute();
      const wrapped = [randomBytes(60), randomBytes(60)];
      await db
        .insertInto('mirror_encryption_keys')
        .values(wrapped.map((w, i) => ({ scope: 'group:old', version: i + 1, wrapped: w, created_at: new Date() })))
        .execute();

      const store = await createSqlKeyStore(db, 'kek-of-then');
      expect(await store.versions('group:old')).toEqual(wrapped.map((w, i) => ({ scope: 'group:old', version: i + 1, wrapped: new Uint8Array(w), kekId: 'kek-of-then' })));
      expect(await store.reserve('group:old', 2, 7)).toBe(7);

      // Opened again later, under another KEK, nothing is relabelled.
      const later = await createSqlKeyStore(database.connect(), 'kek-of-now');
      expect((await later.versions('group:old')).map((k) => k.kekId)).toEqual(['kek-of-then', 'kek-of-then']);
      const { rows } = await sql<{ n: number }>`select count(*) as n from mirror_encryption_keys`.execute(db);
      expect(Number(rows[0]!.n)).toBe(2);
    });
  });
}
