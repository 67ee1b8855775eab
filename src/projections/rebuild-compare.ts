/**
 * `projections verify`'s comparison of the live read models with their rebuilt copies in the shadow (rebuild.ts):
 * per table, first a checksum over all its rows, computed by the database; only where the two differ, the rows that
 * do, found by primary key. A sealed column holds the same text under a fresh nonce each time it is sealed, so its
 * bytes never match: it is compared opened, here, for the rows whose other columns match.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { GroupEncryptionManager } from '../infra/crypto/group-encryption-manager.js';
import { sqlFlavor, type SqlFlavor } from '../infra/sql/dialect.js';
import { openMessageBody } from './queries/chat-message.js';
import { openPinNote } from './queries/message-details.js';
import { liveSchema, shadowTable } from './shadow-tables.js';

export interface RowKeys {
  count: number;
  /** The primary keys of the first few, in key order. */
  keys: Array<Record<string, unknown>>;
}

export interface TableComparison {
  table: string;
  liveRows: number;
  rebuiltRows: number;
  /** Rows the rebuild made that the live table lacks. */
  missing: RowKeys;
  /** Rows of the live table the rebuild did not make. */
  extra: RowKeys;
  /** Rows under the same key in both, with different contents. */
  differing: RowKeys;
}

/** A table to compare, whole or, for one shared by every projection (the replay guards), only `projections`' rows. */
export interface ComparedTable {
  table: string;
  projections?: readonly string[];
}

const KEYS_SHOWN = 20;
const PAGE = 500;

type Row = Record<string, any>;
/** How to open each sealed column (whose name ends in _sealed): the context its sealing bound it to is in its row. */
const openers: Record<string, (crypto: GroupEncryptionManager, row: Row, sealed: Uint8Array) => Promise<unknown>> = {
  'mirror_group_messages.body_sealed': (crypto, row, sealed) => openMessageBody(crypto, row.group_id, row.id, sealed),
  'mirror_group_pinned_messages.pin_note_sealed': (crypto, row, sealed) => openPinNote(crypto, row.group_id, row.message_id, sealed),
};
const isSealed = (column: string) => column.endsWith('_sealed');

interface Shape {
  columns: string[];
  key: string[];
}

async function shapeOf(db: Kysely<any>, table: string): Promise<Shape> {
  const schema = await liveSchema(db);
  const columns = await sql<{ name: string }>`
    select column_name as name from information_schema.columns
    where table_schema = ${schema} and table_name = ${table} order by ordinal_position`.execute(db);
  const key = await sql<{ name: string }>`
    select k.column_name as name from information_schema.table_constraints c
    join information_schema.key_column_usage k
      on k.constraint_name = c.constraint_name and k.table_schema = c.table_schema and k.table_name = c.table_name
    where c.constraint_type = 'PRIMARY KEY' and c.table_schema = ${schema} and c.table_name = ${table}
    order by k.ordinal_position`.execute(db);
  if (key.rows.length === 0) throw new Error(`${table} has no primary key to compare its rows by`);
  const sealed = columns.rows.map((c) => c.name).filter((c) => isSealed(c) && !openers[`${table}.${c}`]);
  if (sealed.length > 0) throw new Error(`No way to open ${table}.${sealed[0]} for comparing: add it to rebuild-compare.ts`);
  return { columns: columns.rows.map((c) => c.name), key: key.rows.map((k) => k.name) };
}

const column = (alias: string, name: string) => sql.ref(`${alias}.${name}`);

/** A hash of a row's columns, sealed ones only as present or not; the same row gives the same hash in either table. */
function rowHash(flavor: SqlFlavor, alias: string, columns: string[]): RawBuilder<string> {
  const presence = columns.filter(isSealed).map((c) => sql`${column(alias, c)} is null`);
  const plain = columns.filter((c) => !isSealed(c));
  // concat_ws skips nulls, hence the marker; hex makes every type text, bytes as they are.
  return flavor === 'mysql'
    ? sql`md5(concat_ws('|', ${sql.join([...plain.map((c) => sql`coalesce(hex(${column(alias, c)}), '~')`), ...presence])}))`
    : sql`md5(row(${sql.join([...plain.map((c) => column(alias, c)), ...presence])})::text)`;
}

/** Half of a 128-bit checksum: the XOR of the rows' hashes, so it does not depend on the order rows are read in. */
function xorOfHashes(flavor: SqlFlavor, from: 1 | 17): RawBuilder<string> {
  const half = sql`substr(h, ${sql.lit(from)}, 16)`;
  return flavor === 'mysql'
    ? sql`cast(coalesce(bit_xor(cast(conv(${half}, 16, 10) as unsigned)), 0) as char)`
    : sql`coalesce(bit_xor(('x' || ${half})::bit(64)::bigint), 0)::text`;
}

/** The rows of alias `alias` that `compared` is about. */
const inScope = (compared: ComparedTable, alias: string): RawBuilder<unknown> =>
  compared.projections ? sql`${column(alias, 'projection')} in (${sql.join([...compared.projections])})` : sql`1 = 1`;

async function checksum(db: Kysely<any>, compared: ComparedTable, table: string, columns: string[]): Promise<{ rows: number; sum: string }> {
  const flavor = sqlFlavor(db);
  const { rows } = await sql<{ n: number | string; a: string; b: string }>`
    select count(*) as n, ${xorOfHashes(flavor, 1)} as a, ${xorOfHashes(flavor, 17)} as b
    from (select ${rowHash(flavor, 't', columns)} as h from ${sql.table(table)} t where ${inScope(compared, 't')}) hashed`.execute(db);
  return { rows: Number(rows[0]!.n), sum: `${rows[0]!.a}:${rows[0]!.b}` };
}

/** The rows of `from` (a FROM … WHERE clause over aliases l and s), counted, and the first few keys of `alias`. */
async function rowsWhere(db: Kysely<any>, key: string[], alias: 'l' | 's', from: RawBuilder<unknown>): Promise<RowKeys> {
  const keyColumns = sql.join(key.map((k) => column(alias, k)));
  const count = await sql<{ n: number | string }>`select count(*) as n ${from}`.execute(db);
  const keys = await sql<Row>`select ${sql.join(key.map((k) => sql`${column(alias, k)} as ${sql.id(k)}`))} ${from} order by ${keyColumns} limit ${sql.lit(KEYS_SHOWN)}`.execute(db);
  return { count: Number(count.rows[0]!.n), keys: keys.rows };
}

async function open(crypto: GroupEncryptionManager, opener: (typeof openers)[string], row: Row, sealed: Uint8Array | null): Promise<string> {
  if (sealed === null) return 'null';
  return JSON.stringify(await opener(crypto, row, sealed).catch((error: unknown) => ({ unreadable: error instanceof Error ? error.message : String(error) })));
}

/** Rows alike in every other column whose sealed columns open to different contents, page by page in key order. */
async function differingSealed(db: Kysely<any>, crypto: GroupEncryptionManager, table: string, shape: Shape, join: RawBuilder<unknown>): Promise<RowKeys> {
  const sealed = shape.columns.filter(isSealed);
  const found: RowKeys = { count: 0, keys: [] };
  if (sealed.length === 0) return found;
  const flavor = sqlFlavor(db);
  const keyColumns = sql.join(shape.key.map((k) => column('l', k)));
  const rebuilt = (c: string) => `rebuilt_${c}`;
  for (let last: unknown[] | null = null; ; ) {
    const after: RawBuilder<unknown> = last ? sql`and (${keyColumns}) > (${sql.join(last)})` : sql``;
    const { rows }: { rows: Row[] } = await sql<Row>`
      select l.*, ${sql.join(sealed.map((c) => sql`${column('s', c)} as ${sql.id(rebuilt(c))}`))} ${join}
      and ${rowHash(flavor, 'l', shape.columns)} = ${rowHash(flavor, 's', shape.columns)} ${after}
      order by ${keyColumns} limit ${sql.lit(PAGE)}`.execute(db);
    for (const row of rows) {
      for (const c of sealed) {
        const opener = openers[`${table}.${c}`]!;
        if ((await open(crypto, opener, row, row[c])) === (await open(crypto, opener, row, row[rebuilt(c)]))) continue;
        found.count++;
        if (found.keys.length < KEYS_SHOWN) found.keys.push(Object.fromEntries(shape.key.map((k) => [k, row[k]])));
        break;
      }
    }
    if (rows.length < PAGE) return found;
    last = shape.key.map((k) => rows.at(-1)![k]);
  }
}

/** Compares each live table with its shadow copy: checksums, then, where they differ, the rows. */
export async function compareWithShadow(db: Kysely<any>, crypto: GroupEncryptionManager, tables: readonly ComparedTable[]): Promise<TableComparison[]> {
  const flavor = sqlFlavor(db);
  const comparisons: TableComparison[] = [];
  for (const compared of tables) {
    const { table } = compared;
    const shape = await shapeOf(db, table);
    const shadow = shadowTable(db, table);
    const [live, rebuilt] = [await checksum(db, compared, table, shape.columns), await checksum(db, compared, shadow, shape.columns)];
    const [l, s] = [sql`${sql.table(table)} l`, sql`${sql.table(shadow)} s`];
    const sameKey = sql.join(shape.key.map((k) => sql`${column('l', k)} = ${column('s', k)}`), sql` and `);
    // Scoping the live side is enough where both are joined: the key says which rows are the same.
    const join = sql`from ${l} join ${s} on ${sameKey} where ${inScope(compared, 'l')}`;
    const none: RowKeys = { count: 0, keys: [] };
    const plainDiffers = live.sum !== rebuilt.sum || live.rows !== rebuilt.rows;
    const differing = plainDiffers ? await rowsWhere(db, shape.key, 'l', sql`${join} and ${rowHash(flavor, 'l', shape.columns)} <> ${rowHash(flavor, 's', shape.columns)}`) : none;
    const sealed = await differingSealed(db, crypto, table, shape, join);
    comparisons.push({
      table,
      liveRows: live.rows,
      rebuiltRows: rebuilt.rows,
      missing: plainDiffers ? await rowsWhere(db, shape.key, 's', sql`from ${s} where ${inScope(compared, 's')} and not exists (select 1 from ${l} where ${sameKey})`) : none,
      extra: plainDiffers ? await rowsWhere(db, shape.key, 'l', sql`from ${l} where ${inScope(compared, 'l')} and not exists (select 1 from ${s} where ${sameKey})`) : none,
      differing: { count: differing.count + sealed.count, keys: [...differing.keys, ...sealed.keys].slice(0, KEYS_SHOWN) },
    });
  }
  return comparisons;
}
