import { sql, type Kysely, type Transaction } from 'kysely';
import {
  WrongExpectedRevisionError,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type RecordedEvent,
} from '../port.js';
import { decodePosition, encodePosition } from '../position.js';

/** How appends wake readers; the factories choose (NOTIFY across processes, or an in-process emitter). */
export interface AppendNotifier {
  /** Runs inside the append transaction, so the signal is delivered if and only if the events commit. */
  inTransaction?(trx: Transaction<any>): Promise<void>;
  /** Runs after the append transaction has committed. */
  afterCommit?(): void;
  listen(listener: () => void): () => void;
}

interface EventRow {
  transaction_id: string;
  global_seq: string;
  stream_id: string;
  revision: string;
  event_id: string;
  event_type: string;
  data: Uint8Array;
  metadata: Record<string, unknown>;
  recorded_at: Date;
}

// 64-bit columns are read as text: node-postgres and PGlite disagree on how they return int8 and xid8.
const eventColumns = sql`
  transaction_id::text as transaction_id, global_seq::text as global_seq, stream_id, revision::text as revision,
  event_id::text as event_id, event_type, data, metadata, recorded_at`;

/**
 * One implementation for node-postgres and PGlite: every query goes through the caller's Kysely instance, because in
 * the embedded profile the PGlite dialect hands out a single connection shared with the read models, and inside a
 * transaction only the transaction object may be used (the outer db would wait for the connection it holds).
 */
export function postgresEventStore(db: Kysely<any>, notifier: AppendNotifier, close: () => Promise<void>): EventStore {
  return {
    async append(streamId, events, expected) {
      if (events.length === 0) throw new Error(`append to ${streamId}: no events`);
      for (;;) {
        let result: AppendResult;
        try {
          result = await db.transaction().execute(async (trx) => {
            const actual = await lastRevision(trx, streamId);
            if (!isAtExpected(expected, actual)) throw new WrongExpectedRevisionError(streamId, expected, actual);
            const first = actual === 'no_stream' ? 0 : actual + 1;
            const { rows } = await sql<{ transaction_id: string; global_seq: string }>`
              insert into mirror_events (stream_id, revision, event_id, event_type, data, metadata)
              values ${sql.join(events.map((event, i) => eventValues(streamId, first + i, event)))}
              returning transaction_id::text as transaction_id, global_seq::text as global_seq`.execute(trx);
            await notifier.inTransaction?.(trx);
            const last = rows.reduce((a, b) => (BigInt(b.global_seq) > BigInt(a.global_seq) ? b : a));
            return {
              nextRevision: first + events.length - 1,
              position: encodePosition(last.transaction_id, last.global_seq),
            };
          });
        } catch (error) {
          // A concurrent writer read the same last revision and committed first; our insert then hit its revision.
          // With 'any' the caller accepts whatever the stream holds, so the append is simply made again on top.
          if (isUniqueViolation(error, 'mirror_events_stream_revision')) {
            if (expected === 'any') continue;
            throw new WrongExpectedRevisionError(streamId, expected, await lastRevision(db, streamId));
          }
          throw error;
        }
        notifier.afterCommit?.();
        return result;
      }
    },

    async readStream(streamId, fromRevision = 0) {
      const { rows } = await sql<EventRow>`
        select ${eventColumns} from mirror_events
        where stream_id = ${streamId} and revision >= ${fromRevision}
        order by mirror_events.revision`.execute(db);
      return rows.map(toRecordedEvent);
    },

    async readAll(after, maxCount) {
      // Only transactions older than every still-running one are read: a transaction holding a smaller id may still
      // commit, and once a checkpoint has moved past its id its events would never be read.
      const visible = sql`transaction_id < pg_snapshot_xmin(pg_current_snapshot())`;
      const afterCheckpoint = after === null ? sql`true` : afterPosition(after);
      const { rows } = await sql<EventRow>`
        select ${eventColumns} from mirror_events
        where ${visible} and ${afterCheckpoint}
        order by mirror_events.transaction_id, mirror_events.global_seq
        limit ${maxCount}`.execute(db);
      return rows.map(toRecordedEvent);
    },

    onAppended: (listener) => notifier.listen(listener),
    close,
  };
}

function eventValues(streamId: string, revision: number, event: NewEvent) {
  // Metadata travels as text and is cast in SQL, so neither driver applies its own JSON encoding to it.
  return sql`(${streamId}, ${revision}, ${event.id}, ${event.type}, ${event.data}, cast(${JSON.stringify(event.metadata)} as jsonb))`;
}

function afterPosition(after: string) {
  const [transactionId, globalSeq] = decodePosition(after);
  return sql`(transaction_id, global_seq) > (cast(${transactionId.toString()} as xid8), cast(${globalSeq.toString()} as bigint))`;
}

async function lastRevision(db: Kysely<any>, streamId: string): Promise<number | 'no_stream'> {
  const { rows } = await sql<{ revision: string | null }>`
    select max(revision)::text as revision from mirror_events where stream_id = ${streamId}`.execute(db);
  const revision = rows[0]?.revision;
  return revision == null ? 'no_stream' : Number(revision);
}

function isAtExpected(expected: ExpectedRevision, actual: number | 'no_stream'): boolean {
  return expected === 'any' || expected === actual;
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === constraint;
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.event_type,
    // node-postgres returns a Buffer; callers get the same plain Uint8Array from every adapter.
    data: new Uint8Array(row.data),
    metadata: row.metadata,
    streamId: row.stream_id,
    revision: Number(row.revision),
    position: encodePosition(row.transaction_id, row.global_seq),
    recordedAt: row.recorded_at,
  };
}
