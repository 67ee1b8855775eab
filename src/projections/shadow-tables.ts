/**
 * A shadow copy of the read models' tables, where a rebuild (rebuild.ts) replays the log while the live tables keep
 * serving, and which then takes their place at once.
 *
 * - MySQL/MariaDB: the same tables under a prefix (mirror_shadow_users beside mirror_users), swapped in by one
 *   RENAME TABLE naming them all, which MySQL carries out atomically.
 * - PostgreSQL/PGlite: the same names in a schema of their own (index names are per schema, so the copies could not
 *   sit beside the live tables), swapped in by moving tables between schemas in one transaction.
 *
 * The shadow is made by the live migrations and written by the live projections' own queries: a Kysely plugin sends
 * every table named mirror_… to its copy, raw SQL included when it names tables through sql.table().
 */
import { OperationNodeTransformer, sql, TableNode, type Kysely, type KyselyPlugin, type QueryId } from 'kysely';
import { sqlFlavor, type SqlFlavor } from '../infra/sql/dialect.js';
import { liveMigrationTables, migrateReadModels } from './migrations.js';
import type { ReadDb } from './schema.js';

const LIVE_PREFIX = 'mirror_';
/** The shadow: a schema on PostgreSQL, a prefix on MySQL. */
const SHADOW = 'mirror_shadow';
/** Where the live tables go when the shadow takes their place, until they are dropped a moment later. */
const RETIRED = 'mirror_retired';

/** What a live table is called in `place` (SHADOW or RETIRED), as Kysely and sql.table() read a name. */
function placed(flavor: SqlFlavor, place: string, table: string): string {
  return flavor === 'mysql' ? `${place}_${table.slice(LIVE_PREFIX.length)}` : `${place}.${table}`;
}

/** The shadow copy of a live table, by a name Kysely and sql.table() resolve: for queries that read both at once. */
export const shadowTable = (db: Kysely<any>, table: string) => placed(sqlFlavor(db), SHADOW, table);

class ToShadow extends OperationNodeTransformer {
  constructor(private readonly flavor: SqlFlavor) {
    super();
  }

  protected override transformTable(node: TableNode, queryId?: QueryId): TableNode {
    const transformed = super.transformTable(node, queryId);
    const { schema, identifier } = transformed.table;
    const name = identifier.name;
    // Already placed: the Migrator's own tables on MySQL are named for the shadow (migrationRecord).
    if (schema || !name.startsWith(LIVE_PREFIX) || name.startsWith(`${SHADOW}_`)) return transformed;
    return this.flavor === 'mysql' ? TableNode.create(placed('mysql', SHADOW, name)) : TableNode.createWithSchema(SHADOW, name);
  }
}

function shadowPlugin(flavor: SqlFlavor): KyselyPlugin {
  const transformer = new ToShadow(flavor);
  return {
    transformQuery: ({ node, queryId }) => transformer.transformNode(node, queryId),
    transformResult: async ({ result }) => result,
  };
}

/** The shadow tables under the live tables' names: hand it to the projections as their database. */
export const shadowDb = (db: Kysely<any>): ReadDb => db.withPlugin(shadowPlugin(sqlFlavor(db)));

/** Where the shadow's migrations are recorded: a shadow exists when this record does. */
function migrationRecord(flavor: SqlFlavor) {
  return flavor === 'mysql'
    ? {
        migrationTableName: placed('mysql', SHADOW, liveMigrationTables.migrationTableName),
        migrationLockTableName: placed('mysql', SHADOW, liveMigrationTables.migrationLockTableName),
      }
    : { ...liveMigrationTables, migrationTableSchema: SHADOW };
}

/** The schema (PostgreSQL) or database (MySQL) the live tables are in. */
export async function liveSchema(db: Kysely<any>): Promise<string> {
  const query = sqlFlavor(db) === 'mysql' ? sql<{ name: string }>`select database() as name` : sql<{ name: string }>`select current_schema() as name`;
  return (await query.execute(db)).rows[0]!.name;
}

/** Whether the shadow has its copy of `table` (a live table's name, or the migration record's). */
export async function shadowHas(db: Kysely<any>, table: string): Promise<boolean> {
  const flavor = sqlFlavor(db);
  const { rows } = await sql<{ found: number | string }>`
    select count(*) as found from information_schema.tables
    where table_schema = ${flavor === 'mysql' ? sql`database()` : SHADOW} and table_name = ${flavor === 'mysql' ? placed(flavor, SHADOW, table) : table}`.execute(db);
  return Number(rows[0]!.found) > 0;
}

/** Whether a shadow has been made (by an unfinished rebuild, or one that is running). */
export const shadowExists = (db: Kysely<any>) => shadowHas(db, liveMigrationTables.migrationTableName);

/** Makes the shadow, or brings one left by an unfinished rebuild up to the latest migrations. */
export async function migrateShadow(db: Kysely<any>): Promise<void> {
  // Without its record, whatever is left of a shadow is the rest of an interrupted swap, not a shadow to go on with.
  if (!(await shadowExists(db))) await dropShadow(db);
  await migrateReadModels(shadowDb(db), migrationRecord(sqlFlavor(db)));
}

/** Drops the shadow, and any live tables a swap retired and had not dropped yet. */
export async function dropShadow(db: Kysely<any>): Promise<void> {
  if (sqlFlavor(db) === 'postgres') {
    for (const schema of [SHADOW, RETIRED]) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
    return;
  }
  const { rows } = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = database() and (table_name like ${`${SHADOW}\\_%`} or table_name like ${`${RETIRED}\\_%`})`.execute(db);
  if (rows.length > 0) await sql`drop table if exists ${sql.join(rows.map((r) => sql.table(r.name)))}`.execute(db);
}

/**
 * Puts the shadow copies of `tables` in the place of the live ones, all at once: readers see the old tables or the
 * new ones, never a mix. What is left (the old tables, the rest of the shadow) is for dropShadow, which may take a
 * while on MySQL: the caller need not hold anything up meanwhile.
 */
export async function swapShadow(db: Kysely<any>, tables: readonly string[]): Promise<void> {
  const flavor = sqlFlavor(db);
  if (flavor === 'mysql') {
    const record = Object.values(liveMigrationTables);
    // The shadow's migration record retires with the live tables: a shadow without it is known for a leftover.
    const renames = [
      ...tables.flatMap((t) => [sql`${sql.table(t)} to ${sql.table(placed(flavor, RETIRED, t))}`, sql`${sql.table(placed(flavor, SHADOW, t))} to ${sql.table(t)}`]),
      ...record.map((t) => sql`${sql.table(placed(flavor, SHADOW, t))} to ${sql.table(placed(flavor, RETIRED, t))}`),
    ];
    await sql`rename table ${sql.join(renames)}`.execute(db);
    return;
  }
  const live = await liveSchema(db);
  // Dropping in the same transaction (quick on PostgreSQL): its DDL is transactional, so a crash leaves no half-swapped shadow.
  await db.transaction().execute(async (trx) => {
    await sql`create schema ${sql.id(RETIRED)}`.execute(trx);
    for (const t of tables) {
      await sql`alter table ${sql.id(live, t)} set schema ${sql.id(RETIRED)}`.execute(trx);
      await sql`alter table ${sql.id(SHADOW, t)} set schema ${sql.id(live)}`.execute(trx);
    }
    for (const schema of [RETIRED, SHADOW]) await sql`drop schema ${sql.id(schema)} cascade`.execute(trx);
  });
}
