/**
 * The PostgreSQL store orders the global log by (transaction id, sequence) and reads only below the oldest running
 * transaction. These tests hold a transaction open by hand to show why: a reader that moved its checkpoint past an
 * event committed later by an older transaction would never read that event.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { EventStore } from '../../src/infra/event-store/port.js';
import { openPostgresEventStore } from '../../src/infra/event-store/postgres/index.js';
import { freshPostgresDatabase, type TestDatabase } from '../support/backends.js';
import { newEvent, readAllUntil, streamId } from './event-store.contract.js';

let database: TestDatabase;
let store: EventStore;
let late: pg.Client;

beforeAll(async () => {
  database = await freshPostgresDatabase();
  store = await openPostgresEventStore(database.url);
  late = new pg.Client({ connectionString: database.url });
  await late.connect();
});

afterAll(async () => {
  await late?.end();
  await store?.close();
  await database?.drop();
});

it('holds back a committed event while an older transaction is open, then delivers both in transaction order', async () => {
  const { position: start } = await store.append(streamId('start'), [newEvent()], 'no_stream');
  const lateEvent = newEvent('Late');
  const earlyEvent = newEvent('Early');

  // T1 takes its transaction id (the column default) and its sequence number first, and commits last.
  await late.query('begin');
  await late.query(
    `insert into mirror_events (stream_id, revision, event_id, event_type, data, metadata)
     values ($1, 0, $2, $3, $4, '{}')`,
    [streamId('late'), lateEvent.id, lateEvent.type, Buffer.from(lateEvent.data)],
  );
  try {
    // T2 commits while T1 is still open.
    await store.append(streamId('early'), [earlyEvent], 'no_stream');

    // A reader catching up now must stop before T2's event: moving its checkpoint past it would skip T1's for good.
    const whileOpen = await store.readAll(start, 100);
    expect(whileOpen.map((e) => e.id)).not.toContain(earlyEvent.id);
    expect(whileOpen.map((e) => e.id)).not.toContain(lateEvent.id);

    await late.query('commit');
    const checkpoint = whileOpen.at(-1)?.position ?? start;
    const afterCommit = await readAllUntil(store, checkpoint, 100, (seen) => seen.length >= 2);
    expect(afterCommit.map((e) => e.id)).toEqual([lateEvent.id, earlyEvent.id]);
    expect(afterCommit[0]!.position < afterCommit[1]!.position).toBe(true);
  } finally {
    await late.query('rollback').catch(() => {});
  }
});

it('orders by transaction, not by sequence: an older transaction that draws its number later still comes first', async () => {
  const { position: start } = await store.append(streamId('start'), [newEvent()], 'no_stream');
  const lateEvent = newEvent('Late');
  const earlyEvent = newEvent('Early');

  await late.query('begin');
  await late.query('select pg_current_xact_id()');
  try {
    await store.append(streamId('early'), [earlyEvent], 'no_stream');
    await late.query(
      `insert into mirror_events (stream_id, revision, event_id, event_type, data, metadata)
       values ($1, 0, $2, $3, $4, '{}')`,
      [streamId('late'), lateEvent.id, lateEvent.type, Buffer.from(lateEvent.data)],
    );
    expect((await store.readAll(start, 100)).map((e) => e.id)).toEqual([]);
    await late.query('commit');

    const afterCommit = await readAllUntil(store, start, 100, (seen) => seen.length >= 2);
    expect(afterCommit.map((e) => e.id)).toEqual([lateEvent.id, earlyEvent.id]);
  } finally {
    await late.query('rollback').catch(() => {});
  }
});
