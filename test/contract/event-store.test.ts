import { PGlite } from '@electric-sql/pglite';
import { Kysely, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { afterAll, expect, it } from 'vitest';
import { openEsdbEventStore } from '../../src/infra/event-store/esdb/index.js';
import { createPgliteEventStore, openPostgresEventStore } from '../../src/infra/event-store/postgres/index.js';
import { freshPostgresDatabase, type TestDatabase } from '../support/backends.js';
import { eventStoreContract, newEvent, streamId } from './event-store.contract.js';

const databases: TestDatabase[] = [];
let pglite: Kysely<any> | undefined;

afterAll(async () => {
  await pglite?.destroy();
  await Promise.all(databases.map((database) => database.drop()));
});

async function freshDatabase(): Promise<TestDatabase> {
  const database = await freshPostgresDatabase();
  databases.push(database);
  return database;
}

eventStoreContract('PostgreSQL', async () => openPostgresEventStore((await freshDatabase()).url));

eventStoreContract('PGlite', async () => {
  pglite = new Kysely<any>({ dialect: new PGliteDialect(new PGlite()) });
  return createPgliteEventStore(pglite);
});

// The global setup prints a banner when this suite is not run.
const esdbUrl = process.env.EVENTSTORE_URL;
if (esdbUrl?.startsWith('esdb://')) eventStoreContract('EventStoreDB', () => openEsdbEventStore(esdbUrl));

it('PostgreSQL: two processes starting on an empty database both migrate', async () => {
  const { url } = await freshDatabase();
  const stores = await Promise.all([openPostgresEventStore(url), openPostgresEventStore(url)]);
  await Promise.all(stores.map((store) => store.close()));
});

it('PGlite: an empty log has no head and nothing to count', async () => {
  const db = new Kysely<any>({ dialect: new PGliteDialect(new PGlite()) });
  try {
    const store = await createPgliteEventStore(db);
    expect(await store.head()).toBeNull();
    expect(await store.countAfter(null)).toBe(0);
  } finally {
    await db.destroy();
  }
});

it('PGlite: a second store on the shared instance reuses the table, and closing it leaves the instance open', async () => {
  const db = pglite!;
  const stream = streamId('shared');
  const store = await createPgliteEventStore(db);
  await store.append(stream, [newEvent()], 'no_stream');
  await store.close();
  const { rows } = await sql<{ count: number }>`
    select count(*)::int as count from mirror_events where stream_id = ${stream}`.execute(db);
  expect(rows).toEqual([{ count: 1 }]);
});
