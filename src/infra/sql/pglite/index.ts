import { PGlite } from '@electric-sql/pglite';
import { CompiledQuery, Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';

const instances = new WeakMap<Kysely<any>, PGlite>();

/**
 * The embedded profile's one database: PGlite (PostgreSQL in WebAssembly) in this process, files under `dataDir`,
 * or in memory when `dataDir` is undefined. Every user of it must go through this Kysely instance: the dialect hands
 * out a single connection at a time, which is what keeps transactions from interleaving.
 */
export async function openPgliteDb(dataDir?: string): Promise<Kysely<any>> {
  const pglite = dataDir ? new PGlite(dataDir) : new PGlite();
  await pglite.waitReady;
  const db = new Kysely<any>({ dialect: new PGliteDialect(pglite) });
  instances.set(db, pglite);
  return db;
}

/**
 * SQL text written elsewhere (a library's own schema and queries) on a database of `openPgliteDb`, in turn with its
 * other users: with parameters as one statement, without as a script of any number of them, which Kysely cannot run
 * (PGlite's extended protocol takes one statement). Answers the rows of the statement, or of the script's last.
 */
export async function runSql(db: Kysely<any>, text: string, values: readonly unknown[] = []): Promise<{ rows: any[] }> {
  const pglite = instances.get(db);
  if (!pglite) throw new Error('runSql needs a database opened by openPgliteDb');
  return db.connection().execute(async (connection) => {
    if (values.length > 0) return connection.executeQuery(CompiledQuery.raw(text, [...values]));
    const results = await pglite.exec(text);
    return { rows: results.at(-1)?.rows ?? [] };
  });
}
