import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';

/**
 * The embedded profile's one database: PGlite (PostgreSQL in WebAssembly) in this process, files under `dataDir`,
 * or in memory when `dataDir` is undefined. Every user of it must go through this Kysely instance: the dialect hands
 * out a single connection at a time, which is what keeps transactions from interleaving.
 */
export async function openPgliteDb(dataDir?: string): Promise<Kysely<any>> {
  const pglite = dataDir ? new PGlite(dataDir) : new PGlite();
  await pglite.waitReady;
  return new Kysely<any>({ dialect: new PGliteDialect(pglite) });
}
