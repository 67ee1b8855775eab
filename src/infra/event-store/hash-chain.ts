/**
 * Tamper evidence without the keys: every event's metadata carries `prevHash`, the link its stream's previous event
 * left — a SHA-256 over that event's id, type and sealed bytes and the link before it. Altering, dropping or
 * reordering any event breaks every link after it, and anyone can check that from the stored bytes alone, keys or no
 * keys (a shredded group's history stays verifiable). The first event of a stream links to nothing: `prevHash` null.
 */
import { createHash } from 'node:crypto';
import type { NewEvent, RecordedEvent } from './port.js';

export const PREV_HASH = 'prevHash';

/** What a stream with no events links from. */
export const NO_LINK = '';

/** The link `event` leaves for its successor. */
export function linkOf(previous: string, event: Pick<NewEvent, 'id' | 'type' | 'data'>): string {
  return createHash('sha256')
    .update(previous)
    .update('\n')
    .update(event.id)
    .update('\n')
    .update(event.type)
    .update('\n')
    .update(event.data)
    .digest('hex');
}

/** `events`, about to follow an event whose link is `previous`, each stamped with the link before it. */
export function chain(previous: string, events: NewEvent[]): { events: NewEvent[]; last: string } {
  let link = previous;
  const linked = events.map((event) => {
    const stamped = { ...event, metadata: { ...event.metadata, [PREV_HASH]: link === NO_LINK ? null : link } };
    link = linkOf(link, event);
    return stamped;
  });
  return { events: linked, last: link };
}

export type ChainBreak =
  | { kind: 'altered'; revision: number; detail: string }
  | { kind: 'missing'; revision: number; detail: string }
  | { kind: 'reordered'; revision: number; detail: string }
  | { kind: 'unchained'; revision: number; detail: string }
  | { kind: 'rewritten'; revision: number; detail: string };

/**
 * How far a check along one stream has got: all that is kept per stream while walking the global log, where the
 * streams' events come interleaved.
 */
export interface ChainCheck {
  /** Events followed so far, which is also the revision the next one must have. */
  events: number;
  /** The link the last event followed leaves: the one the next must carry. */
  link: string;
  /**
   * Leading events with no `prevHash` at all, written before streams were chained. Each later event's link covers
   * them all the same, since links are computed over every event before; until one follows, they prove nothing.
   */
  unchained: number;
  /** The first break; once found, the rest of the stream is not followed. */
  broken: ChainBreak | null;
}

export const startCheck = (): ChainCheck => ({ events: 0, link: NO_LINK, unchained: 0, broken: null });

/**
 * A stream's head as an earlier check recorded it. A chain only proves each event against the ones after it: a
 * stream rewritten from some event on and linked anew, or cut short, or changed in its last event, holds together
 * again, and shows only against what was recorded before.
 */
export interface ChainHead {
  events: number;
  link: string;
}

/**
 * Follows `event`, the next one the store gives for the check's stream. Revisions must run 0, 1, 2, … and each event
 * must carry its predecessor's link; the first place where either fails is recorded (an event whose predecessor was
 * altered shows as the successor's broken link, pointing at the predecessor). With `earlier`, the link must come out
 * as recorded once as many events have been followed.
 */
export function follow(check: ChainCheck, event: RecordedEvent, earlier?: ChainHead): void {
  if (check.broken) return;
  check.broken = breakAt(check, event);
  if (check.broken) return;
  if (!(PREV_HASH in event.metadata)) check.unchained++;
  check.link = linkOf(check.link, event);
  check.events++;
  if (earlier && check.events === earlier.events && check.link !== earlier.link) {
    const last = earlier.events - 1;
    check.broken = { kind: 'rewritten', revision: last, detail: `revisions 0–${last} no longer hash to the head the earlier check recorded: one of them was altered, and the events after it linked anew` };
  }
}

/** Ends the check after the stream's last event: a stream shorter than `earlier` saw it has lost its last events. */
export function finish(check: ChainCheck, earlier?: ChainHead): void {
  if (check.broken || !earlier || check.events >= earlier.events) return;
  check.broken = { kind: 'missing', revision: check.events, detail: `revisions ${check.events}–${earlier.events - 1}, which the earlier check saw, are missing` };
}

function breakAt(check: ChainCheck, event: RecordedEvent): ChainBreak | null {
  const expected = check.events;
  if (event.revision < expected) return { kind: 'reordered', revision: event.revision, detail: `revision ${event.revision} after ${expected - 1}` };
  if (event.revision > expected) return { kind: 'missing', revision: expected, detail: `revisions ${expected}–${event.revision - 1} are missing` };
  if (!(PREV_HASH in event.metadata)) {
    if (check.unchained === expected) return null;
    return { kind: 'unchained', revision: expected, detail: `revision ${expected} carries no link though the events before it do: its metadata was rewritten` };
  }
  if (event.metadata[PREV_HASH] === (check.link === NO_LINK ? null : check.link)) return null;
  if (expected === 0) return { kind: 'altered', revision: 0, detail: 'the first event links to an event before it' };
  const previous = expected - 1;
  return check.unchained === expected
    ? { kind: 'altered', revision: previous, detail: `revision ${expected} does not link to revisions 0–${previous} (written before streams were chained) as stored: one of them was altered, or events among them were removed` }
    : { kind: 'altered', revision: previous, detail: `revision ${expected} does not link to revision ${previous} as stored: that one was altered, or events between them were removed` };
}

/** Checks a whole stream, its events in the order the store gives them. */
export function verifyChain(events: Iterable<RecordedEvent>, earlier?: ChainHead): ChainCheck {
  const check = startCheck();
  for (const event of events) follow(check, event, earlier);
  finish(check, earlier);
  return check;
}
