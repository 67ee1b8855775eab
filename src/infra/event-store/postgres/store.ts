import { sql, type Kysely, type RawBuilder } from 'kysely';
import {
  WrongExpectedRevisionError,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type RecordedEvent,
  type StreamAppended,
} from '../port.js';
import { decodePosition, encodePosition } from '../position.js';

/** How appends wake readers; the factories choose (NOTIFY across processes, or an in-process emitter). */
export interface AppendNotifier {
  /**
   * An expression evaluated by the append statement itself, so the signal is delivered if and only if it commits;
   * `payload` is the text `parseAppended` reads back ('' when the statement appended nothing).
   */
  inStatement?(payload: RawBuilder<string>): RawBuilder<unknown>;
  /** Runs after the append has committed. */
  afterCommit?(appended: StreamAppended): void;
  listen(listener: (appended: StreamAppended | null) => void): () => void;
}

/** A notification's payload, `<revision>:<stream id>`, back to what it tells; null when it tells nothing. */
export function parseAppended(payload: string | undefined): StreamAppended | null {
  const match = /^(\d+):(.+)$/s.exec(payload ?? '');
  return match ? { streamId: match[2]!, revision: Number(match[1]) } : null;
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
        let rows: AppendedRow[];
        try {
          rows = (await appendStatement(streamId, events, expected, notifier.inStatement).execute(db)).rows;
        } catch (error) {
          // A concurrent writer read the same last revision and committed first; our insert then hit its revision.
          // With 'any' the caller accepts whatever the stream holds, so the append is simply made again on top.
          if (isUniqueViolation(error, 'mirror_events_stream_revision')) {
            if (expected === 'any') continue;
            throw new WrongExpectedRevisionError(streamId, expected, await lastRevision(db, streamId));
          }
          throw error;
        }
        const appended = rows.filter((r) => r.global_seq !== null);
        if (appended.length === 0) {
          const actual = rows[0]!.previous === '-1' ? 'no_stream' : Number(rows[0]!.previous);
          throw new WrongExpectedRevisionError(streamId, expected, actual);
        }
        const last = appended.reduce((a, b) => (BigInt(b.global_seq!) > BigInt(a.global_seq!) ? b : a));
        const nextRevision = Number(last.previous) + events.length;
        notifier.afterCommit?.({ streamId, revision: nextRevision });
        return { nextRevision, position: encodePosition(last.transaction_id!, last.global_seq!) };
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
      const { rows } = await sql<EventRow>`
        select ${eventColumns} from mirror_events
        where ${visible} and ${after === null ? sql`true` : afterPosition(after)}
        order by mirror_events.transaction_id, mirror_events.global_seq
        limit ${maxCount}`.execute(db);
      return rows.map(toRecordedEvent);
    },

    async head() {
      const { rows } = await sql<Pick<EventRow, 'transaction_id' | 'global_seq' | 'recorded_at'>>`
        select transaction_id::text as transaction_id, global_seq::text as global_seq, recorded_at from mirror_events
        where ${visible}
        order by mirror_events.transaction_id desc, mirror_events.global_seq desc
        limit 1`.execute(db);
      const row = rows[0];
      return row ? { position: encodePosition(row.transaction_id, row.global_seq), recordedAt: row.recorded_at } : null;
    },

    async countAfter(after) {
      const { rows } = await sql<{ count: string }>`
        select count(*)::text as count from mirror_events
        where ${visible} and ${after === null ? sql`true` : afterPosition(after)}`.execute(db);
      return Number(rows[0]!.count);
    },

    onAppended: (listener) => notifier.listen(listener),
    close,
  };
}

interface AppendedRow {
  /** The stream's last revision before the append, -1 for none. */
  previous: string;
  /** Null when nothing was appended: the stream was not at the expected revision. */
  transaction_id: string | null;
  global_seq: string | null;
}

/**
 * The whole append as one statement, hence one round trip and its own transaction: the check of the expected
 * revision, the events numbered on from the stream's last, and the signal. It answers a row per event appended, or a
 * single row without them when the stream was not where the caller expected.
 */
function appendStatement(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision, signal: AppendNotifier['inStatement']) {
  const atExpected =
    expected === 'any' ? sql`true` : sql`last.revision = ${expected === 'no_stream' ? -1 : expected}`;
  // Metadata travels as text and is cast in SQL, so neither driver applies its own JSON encoding to it.
  const values = events.map(
    (event, i) =>
      sql`(${sql.lit(i + 1)}, cast(${event.id} as uuid), cast(${event.type} as text), cast(${event.data} as bytea), cast(${JSON.stringify(event.metadata)} as jsonb))`,
  );
  // Every row of the answer carries the same payload, and PostgreSQL folds identical notifications of a transaction.
  const payload = sql<string>`case when appended.global_seq is null then '' else (last.revision + ${sql.lit(events.length)})::text || ':' || ${streamId} end`;
  return sql<AppendedRow>`
    with last as (
      select coalesce(max(revision), -1) as revision from mirror_events where stream_id = ${streamId}
    ), appended as (
      insert into mirror_events (stream_id, revision, event_id, event_type, data, metadata)
      select ${streamId}, last.revision + e.n, e.event_id, e.event_type, e.data, e.metadata
      from last, (values ${sql.join(values)}) as e(n, event_id, event_type, data, metadata)
      where ${atExpected}
      returning transaction_id::text as transaction_id, global_seq::text as global_seq
    )
    select last.revision::text as previous, appended.transaction_id, appended.global_seq${signal ? sql`, ${signal(payload)}` : sql``}
    from last left join appended on true`;
}

/**
 * What readers see of the log: only transactions older than every still-running one, since a transaction holding a
 * smaller id may still commit, and once a checkpoint has moved past its id its events would never be read.
 */
const visible = sql`transaction_id < pg_snapshot_xmin(pg_current_snapshot())`;

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
