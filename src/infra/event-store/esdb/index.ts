import { EventEmitter } from 'node:events';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  binaryEvent,
  excludeSystemEvents,
  type AllStreamSubscription,
  type Position,
  type ReadPosition,
  type RecordedEvent as EsdbRecordedEvent,
} from '@eventstore/db-client';
import {
  WrongExpectedRevisionError,
  type AppendResult,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  type StreamAppended,
} from '../port.js';
import { decodePosition, encodePosition } from '../position.js';

const APPENDED = 'appended';
const RESUBSCRIBE_MS = 1000;
const REMEMBERED_SCANS = 100;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * EventStoreDB / KurrentDB. Event bodies are already sealed bytes, so they are written as binary events; metadata is
 * written as UTF-8 JSON bytes. Reading `$all` needs a user allowed to (admin or ops, given in the connection string).
 */
export async function openEsdbEventStore(connectionString: string): Promise<EventStore> {
  const client = EventStoreDBClient.connectionString(connectionString);
  const emitter = new EventEmitter();
  // Every projector and gateway subscribes; the default limit of 10 would warn about a leak that is not one.
  emitter.setMaxListeners(0);

  // The v6 client cannot filter readAll on the server, so the system events following a caught-up reader's
  // checkpoint ($stats every 30 s on an idle node) would be read again on every poll. This remembers, per
  // checkpoint, where a scan found nothing but system events up to.
  const scannedTo = new Map<string, Position>();

  let live: AllStreamSubscription | undefined;
  let resubscribe: NodeJS.Timeout | undefined;
  let closed = false;

  // Started on the first listener (every command processor listens, to know when another process wrote its streams).
  const subscribeLive = () => {
    if (closed || live || resubscribe) return;
    const subscription = client.subscribeToAll({ fromPosition: END, filter: excludeSystemEvents() });
    const lost = () => {
      if (live !== subscription) return;
      live = undefined;
      // Appends while the subscription is down are not seen; readers re-check now and rely on their poll after.
      emitter.emit(APPENDED, null);
      resubscribe = setTimeout(() => {
        resubscribe = undefined;
        subscribeLive();
      }, RESUBSCRIBE_MS);
    };
    // Appends made before the server confirmed the subscription were not seen by it; readers re-check.
    subscription.on('confirmation', () => emitter.emit(APPENDED, null));
    subscription.on('data', ({ event }) =>
      emitter.emit(APPENDED, event ? ({ streamId: event.streamId, revision: Number(event.revision) } satisfies StreamAppended) : null),
    );
    subscription.on('error', lost);
    subscription.on('end', lost);
    live = subscription;
  };

  return {
    async append(streamId, events, expected) {
      if (events.length === 0) throw new Error(`append to ${streamId}: no events`);
      let result;
      try {
        result = await client.appendToStream(streamId, events.map(toEventData), {
          expectedRevision: typeof expected === 'number' ? BigInt(expected) : expected,
        });
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          const actual = error.actualVersion;
          throw new WrongExpectedRevisionError(streamId, expected, actual === 'no_stream' ? 'no_stream' : Number(actual));
        }
        throw error;
      }
      if (!result.position) throw new Error('EventStoreDB returned no log position for an append (server too old)');
      return {
        nextRevision: Number(result.nextExpectedRevision),
        position: encodePosition(result.position.commit, result.position.prepare),
      } satisfies AppendResult;
    },

    async readStream(streamId, fromRevision = 0) {
      const events: RecordedEvent[] = [];
      try {
        for await (const { event } of client.readStream(streamId, { fromRevision: BigInt(fromRevision) })) {
          if (event) events.push(toRecordedEvent(event));
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return [];
        throw error;
      }
      return events;
    },

    async readAll(after, maxCount) {
      const key = after ?? START;
      let cursor: ReadPosition = scannedTo.get(key) ?? (after === null ? START : toEsdbPosition(after));
      let lastRead = cursor === START ? null : encodePosition(cursor.commit, cursor.prepare);
      const found: RecordedEvent[] = [];
      const pageSize = maxCount + 1;
      for (;;) {
        let read = 0;
        for await (const { event } of client.readAll({ fromPosition: cursor, maxCount: pageSize })) {
          read += 1;
          if (!event) continue;
          const position = encodePosition(event.position.commit, event.position.prepare);
          // fromPosition is inclusive: the page starts with the event last seen.
          if (lastRead !== null && position <= lastRead) continue;
          cursor = event.position;
          lastRead = position;
          if (!isSystemEvent(event)) found.push(toRecordedEvent(event));
        }
        if (found.length > maxCount) return found.slice(0, maxCount);
        if (found.length === maxCount || read < pageSize) break;
      }
      // Everything read after the last event returned (or after `after`, if none) was a system event.
      if (cursor !== START) {
        scannedTo.set(found.at(-1)?.position ?? key, cursor);
        if (scannedTo.size > REMEMBERED_SCANS) scannedTo.delete(scannedTo.keys().next().value!);
      }
      return found;
    },

    async head() {
      // Newest first; system events ($stats, …) are skipped, as readAll skips them. Leaving the loop ends the read.
      for await (const { event } of client.readAll({ direction: BACKWARDS, fromPosition: END })) {
        if (!event || isSystemEvent(event)) continue;
        const { position } = toRecordedEvent(event);
        return { position, recordedAt: event.created };
      }
      return null;
    },

    // EventStoreDB keeps no count of $all: this reads every event after `after`, so it takes as long as the backlog.
    async countAfter(after) {
      let count = 0;
      for await (const { event } of client.readAll({ fromPosition: after === null ? START : toEsdbPosition(after) })) {
        if (!event || isSystemEvent(event) || !event.position) continue;
        // fromPosition is inclusive: the read starts with the event at `after`.
        if (after !== null && encodePosition(event.position.commit, event.position.prepare) <= after) continue;
        count += 1;
      }
      return count;
    },

    onAppended(listener) {
      emitter.on(APPENDED, listener);
      subscribeLive();
      return () => emitter.off(APPENDED, listener);
    },

    async close() {
      closed = true;
      clearTimeout(resubscribe);
      emitter.removeAllListeners();
      const subscription = live;
      live = undefined;
      await subscription?.unsubscribe();
      await client.dispose();
    },
  };
}

function toEventData(event: NewEvent) {
  return binaryEvent({
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: utf8.encode(JSON.stringify(event.metadata)),
  });
}

function toEsdbPosition(position: string): Position {
  const [commit, prepare] = decodePosition(position);
  return { commit, prepare };
}

function isSystemEvent(event: EsdbRecordedEvent): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

/** Only events this adapter wrote are expected outside system streams: binary data, JSON-object metadata. */
function toRecordedEvent(event: EsdbRecordedEvent): RecordedEvent {
  if (event.isJson || !(event.data instanceof Uint8Array)) {
    throw new Error(`Event ${event.id} in ${event.streamId} is not a binary event`);
  }
  if (!event.position) throw new Error('EventStoreDB returned no log position for an event (server too old)');
  return {
    id: event.id,
    type: event.type,
    data: new Uint8Array(event.data),
    metadata: toMetadata(event),
    streamId: event.streamId,
    revision: Number(event.revision),
    position: encodePosition(event.position.commit, event.position.prepare),
    recordedAt: event.created,
  };
}

// The client already parses metadata that is valid JSON, and hands back the raw bytes otherwise.
function toMetadata(event: EsdbRecordedEvent): Record<string, unknown> {
  const metadata: unknown =
    event.metadata instanceof Uint8Array ? JSON.parse(fromUtf8.decode(event.metadata)) : event.metadata;
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new Error(`Event ${event.id} in ${event.streamId} has metadata that is not a JSON object`);
  }
  return metadata as Record<string, unknown>;
}
