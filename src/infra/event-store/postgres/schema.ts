import { sql, type Kysely } from 'kysely';

/**
 * The global log is ordered by (transaction_id, global_seq): the sequence alone is not commit order, because a
 * transaction can draw a number and commit after a later one has (see readAll in store.ts).
 */
export async function migrateEventStore(db: Kysely<any>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // Two processes starting at once would otherwise race on CREATE ... IF NOT EXISTS and one of them fail.
    await sql`select pg_advisory_xact_lock(hashtext('mirror_events migration'))`.execute(trx);
    await sql`
      create table if not exists mirror_events (
        transaction_id xid8 not null default pg_current_xact_id(),
        global_seq bigserial not null,
        stream_id text not null,
        revision bigint not null,
        event_id uuid not null constraint mirror_events_event_id unique,
        event_type text not null,
        data bytea not null,
        metadata jsonb not null,
        recorded_at timestamptz not null default now(),
        primary key (transaction_id, global_seq),
        constraint mirror_events_stream_revision unique (stream_id, revision)
      )`.execute(trx);
  });
}
