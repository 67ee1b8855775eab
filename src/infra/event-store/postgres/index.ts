import { EventEmitter } from 'node:events';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { EventStore, StreamAppended } from '../port.js';
import { migrateEventStore } from './schema.js';
import { parseAppended, postgresEventStore } from './store.js';

export { migrateEventStore } from './schema.js';

const CHANNEL = 'mirror_events';
const APPENDED = 'appended';
const RECONNECT_MS = 1000;

/** PostgreSQL server: its own pool, and a dedicated connection that LISTENs so appends in other processes wake us. */
export async function openPostgresEventStore(url: string): Promise<EventStore> {
  const pool = new pg.Pool({ connectionString: url });
  // A broken idle connection is discarded by the pool and replaced on next use; unheard, the event would crash us.
  pool.on('error', () => {});
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  let listener: Listener;
  try {
    await migrateEventStore(db);
    listener = await listenForAppends(url);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return postgresEventStore(
    db,
    {
      // NOTIFY is delivered on commit only, to every listening session, this process's included.
      inStatement: (payload) => sql`pg_notify(${CHANNEL}, ${payload})`,
      listen: listener.listen,
    },
    async () => {
      await listener.close();
      await db.destroy();
    },
  );
}

/**
 * PGlite (single process) on a Kysely instance the caller owns and shares with the read models; `close()` leaves it
 * open. Appends wake readers through an in-process emitter.
 */
export async function createPgliteEventStore(db: Kysely<any>): Promise<EventStore> {
  await migrateEventStore(db);
  const emitter = newEmitter();
  return postgresEventStore(
    db,
    {
      // Deferred so that a throwing listener cannot make a committed append look failed to its caller.
      afterCommit: (appended) => queueMicrotask(() => emitter.emit(APPENDED, appended)),
      listen: (listener) => listenTo(emitter, listener),
    },
    async () => {
      emitter.removeAllListeners();
    },
  );
}

interface Listener {
  listen(listener: (appended: StreamAppended | null) => void): () => void;
  close(): Promise<void>;
}

/**
 * A lost LISTEN connection is reopened in the background. Readers are woken when it drops and when it is back, since
 * notifications sent in between are gone; their poll interval covers the rest.
 */
async function listenForAppends(url: string): Promise<Listener> {
  const emitter = newEmitter();
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  const connect = async () => {
    const candidate = new pg.Client({ connectionString: url });
    const lost = () => {
      if (client !== candidate) return;
      client = undefined;
      emitter.emit(APPENDED, null);
      reconnectLater();
    };
    candidate.on('error', lost);
    candidate.on('end', lost);
    candidate.on('notification', (notification) => emitter.emit(APPENDED, parseAppended(notification.payload)));
    try {
      await candidate.connect();
      await candidate.query(`listen ${CHANNEL}`);
    } catch (error) {
      await candidate.end().catch(() => {});
      throw error;
    }
    if (closed) {
      await candidate.end();
      return;
    }
    client = candidate;
    emitter.emit(APPENDED, null);
  };

  const reconnectLater = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch(reconnectLater);
    }, RECONNECT_MS);
  };

  await connect();
  return {
    listen: (listener) => listenTo(emitter, listener),
    async close() {
      closed = true;
      clearTimeout(retry);
      const current = client;
      client = undefined;
      emitter.removeAllListeners();
      await current?.end();
    },
  };
}

function newEmitter(): EventEmitter {
  const emitter = new EventEmitter();
  // Every projector and gateway subscribes; the default limit of 10 would warn about a leak that is not one.
  emitter.setMaxListeners(0);
  return emitter;
}

function listenTo(emitter: EventEmitter, listener: (appended: StreamAppended | null) => void): () => void {
  emitter.on(APPENDED, listener);
  return () => emitter.off(APPENDED, listener);
}
