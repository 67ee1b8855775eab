/**
 * The event store port: append-only streams plus one global log.
 *
 * Positions in the global log are opaque, fixed-width strings that sort lexicographically in log order, so a
 * checkpoint can be stored as text and compared with `<` in code and in SQL alike.
 */
export interface NewEvent {
  id: string;
  type: string;
  /** Sealed (encrypted) body; the store never sees plaintext. */
  data: Uint8Array;
  metadata: Record<string, unknown>;
}

export interface RecordedEvent extends NewEvent {
  streamId: string;
  /** 0-based position of the event inside its stream. */
  revision: number;
  /** Position in the global log (see above). */
  position: string;
  recordedAt: Date;
}

/** What an append notification may tell: the stream appended to and the revision of its last event now. */
export interface StreamAppended {
  streamId: string;
  revision: number;
}

export type LogHead = Pick<RecordedEvent, 'position' | 'recordedAt'>;

/** `no_stream`: the stream must not exist yet; a number: the revision of the stream's last event. */
export type ExpectedRevision = number | 'no_stream' | 'any';

export interface AppendResult {
  /** Revision of the last event written. */
  nextRevision: number;
  /** Global position of the last event written. */
  position: string;
}

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`Stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

export interface EventStore {
  /** Appends all events atomically, or none, if the stream is at `expected`. */
  append(streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  /** Events of one stream from `fromRevision` on, in order; empty when the stream does not exist. */
  readStream(streamId: string, fromRevision?: number): Promise<RecordedEvent[]>;
  /** Up to `maxCount` events of the global log strictly after `after` (null: from the start), in log order. */
  readAll(after: string | null, maxCount: number): Promise<RecordedEvent[]>;
  /** The last event of the global log that `readAll` can return now: its position and time; null for an empty log. */
  head(): Promise<LogHead | null>;
  /** How many events of the global log `readAll` can return now strictly after `after` (null: the whole log). */
  countAfter(after: string | null): Promise<number>;
  /**
   * Calls `listener` when new events may be readable, in this process or another: with the stream and the revision
   * an append reached when the store tells, or null when anything may have been appended (after a lost connection,
   * say). It may also fire spuriously. Returns an unsubscribe.
   */
  onAppended(listener: (appended: StreamAppended | null) => void): () => void;
  close(): Promise<void>;
}
