/**
 * A group's history as an auditor reads it: one row per event of the group's stream, in stream order, opened with
 * the group's keys and told in words (who did what, when). Where the keys were shredded, only what the store keeps
 * in clear is left: the event's type, its revision and when it was recorded.
 */
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { assertNever } from '../../domain/errors.js';
import type { GroupEvent, MemberRole } from '../../domain/groups.js';
import { groupStreamId, openEvent } from '../../infra/crypto/event-sealing.js';
import { KeyShreddedError } from '../../infra/crypto/group-encryption-manager.js';
import type { RecordedEvent } from '../../infra/event-store/port.js';
import type { Backends } from '../backends.js';

export interface AuditRow {
  revision: number;
  /** When it happened: the event's own timestamp (sentAt, editedAt, …); when it was recorded, for a shredded event. */
  time: string;
  type: string;
  actorUserId: number | null;
  /** `username (#id)`, or [shredded] */
  actor: string;
  action: string;
  /** The message the event is about, if any. */
  messageId: string | null;
  /** The text involved, whole: a message's (the one sent, edited, deleted, reacted to…), the group's name, a pin's note. */
  details: string;
}

/** The columns of an export, in order. */
export const auditColumns = ['revision', 'time', 'type', 'actorUserId', 'actor', 'action', 'messageId', 'details'] as const satisfies ReadonlyArray<keyof AuditRow>;

const SHREDDED = '[shredded]';

export interface History {
  /** Events in the stream, in range or not: what progress is counted in. */
  events: number;
  /** Every event's row, in stream order. */
  rows: AsyncGenerator<AuditRow>;
}

type HistoryBackends = Pick<Backends, 'eventStore' | 'crypto'>;

export async function groupHistory(backends: HistoryBackends, groupId: string): Promise<History> {
  const events = await backends.eventStore.readStream(groupStreamId(groupId));
  if (events.length === 0) throw new Error(`No group ${groupId}`);
  return { events: events.length, rows: rowsOf(backends, events) };
}

async function* rowsOf({ crypto }: HistoryBackends, events: RecordedEvent[]): AsyncGenerator<AuditRow> {
  const story: Story = { usernames: new Map(), roles: new Map(), messages: new Map() };
  // Each row waits for the next event before its actor is named: a group's owner creates it in the event just
  // before the one that names them its first member.
  let held: AuditRow | null = null;
  const named = (row: AuditRow) => (row.actorUserId === null ? row : { ...row, actor: nameOf(story, row.actorUserId) });
  for (const recorded of events) {
    const row = await rowOf(crypto, story, recorded);
    if (held) yield named(held);
    held = row;
  }
  if (held) yield named(held);
}

/** The row of one event, its actor not named yet; a placeholder where the keys were shredded. */
async function rowOf(crypto: Backends['crypto'], story: Story, recorded: RecordedEvent): Promise<AuditRow> {
  const { revision, type } = recorded;
  let event: GroupEvent;
  try {
    event = await openEvent<GroupEvent>(crypto, recorded);
  } catch (error) {
    if (!(error instanceof KeyShreddedError)) throw error;
    return { revision, time: recorded.recordedAt.toISOString(), type, actorUserId: null, actor: SHREDDED, action: SHREDDED, messageId: null, details: SHREDDED };
  }
  const { time, actorUserId, action, messageId, details } = tell(story, event);
  return { revision, time, type, actorUserId, actor: '', action, messageId, details };
}

/** What the events so far tell about the people and messages later events refer to. */
interface Story {
  /** Everyone ever a member. */
  usernames: Map<number, string>;
  /** Current members. */
  roles: Map<number, MemberRole>;
  messages: Map<string, { senderUserId: number; content: string }>;
}

const nameOf = (story: Story, userId: number) => {
  const username = story.usernames.get(userId);
  return username === undefined ? `#${userId}` : `${username} (#${userId})`;
};

type Told = Omit<AuditRow, 'revision' | 'type' | 'actor'> & { actorUserId: number };

/** One event in words, and what it adds to the story. */
function tell(story: Story, event: GroupEvent): Told {
  const contentOf = (messageId: string) => story.messages.get(messageId)?.content ?? '';
  switch (event.type) {
    case 'GroupCreated': {
      const e = event.data;
      return { time: e.createdAt, actorUserId: e.ownerUserId, action: 'created the group', messageId: null, details: e.name };
    }
    case 'MemberAdded': {
      const e = event.data;
      const before = story.roles.get(e.userId);
      story.usernames.set(e.userId, e.username);
      story.roles.set(e.userId, e.role);
      const action = e.addedBy === e.userId ? `joined as ${e.role}` : before ? `made ${nameOf(story, e.userId)} ${e.role}` : `added ${nameOf(story, e.userId)} as ${e.role}`;
      return { time: e.addedAt, actorUserId: e.addedBy, action, messageId: null, details: '' };
    }
    case 'MemberRemoved': {
      const e = event.data;
      story.roles.delete(e.userId);
      const action = e.removedBy === e.userId ? 'left the group' : `removed ${nameOf(story, e.userId)}`;
      return { time: e.removedAt, actorUserId: e.removedBy, action, messageId: null, details: '' };
    }
    case 'MessageSent': {
      const e = event.data;
      story.messages.set(e.messageId, { senderUserId: e.senderUserId, content: e.content });
      const action = (e.parentMessageId ? 'replied' : 'sent') + (e.contentType === 'text' ? '' : ` (${e.contentType})`);
      return { time: e.sentAt, actorUserId: e.senderUserId, action, messageId: e.messageId, details: e.content };
    }
    case 'MessageEdited': {
      const e = event.data;
      const message = story.messages.get(e.messageId);
      if (message) message.content = e.content;
      return { time: e.editedAt, actorUserId: e.editedBy, action: 'edited', messageId: e.messageId, details: e.content };
    }
    case 'MessageDeleted': {
      const e = event.data;
      const senderUserId = story.messages.get(e.messageId)?.senderUserId;
      const action = senderUserId === undefined || senderUserId === e.deletedBy ? 'deleted' : `deleted a message of ${nameOf(story, senderUserId)}`;
      return { time: e.deletedAt, actorUserId: e.deletedBy, action, messageId: e.messageId, details: contentOf(e.messageId) };
    }
    case 'ReactionAdded': {
      const e = event.data;
      return { time: e.reactedAt, actorUserId: e.userId, action: `reacted ${e.emoji}`, messageId: e.messageId, details: contentOf(e.messageId) };
    }
    case 'ReactionRemoved': {
      const e = event.data;
      return { time: e.removedAt, actorUserId: e.userId, action: `removed reaction ${e.emoji}`, messageId: e.messageId, details: contentOf(e.messageId) };
    }
    case 'MessagesRead': {
      const e = event.data;
      const action = e.messageIds.length === 1 ? 'read a message' : `read ${e.messageIds.length} messages`;
      return { time: e.readAt, actorUserId: e.userId, action, messageId: e.messageIds.length === 1 ? e.messageIds[0]! : null, details: e.messageIds.join(' ') };
    }
    case 'MessagePinned': {
      const e = event.data;
      const details = e.note === null ? contentOf(e.messageId) : `${contentOf(e.messageId)} (note: ${e.note})`;
      return { time: e.pinnedAt, actorUserId: e.pinnedBy, action: 'pinned', messageId: e.messageId, details };
    }
    case 'MessageUnpinned': {
      const e = event.data;
      return { time: e.unpinnedAt, actorUserId: e.unpinnedBy, action: 'unpinned', messageId: e.messageId, details: contentOf(e.messageId) };
    }
    case 'PreferencesUpdated': {
      const e = event.data;
      const action = `set notifications to ${e.notifyLevel}${e.muted ? ', muted' : ''}`;
      return { time: e.updatedAt, actorUserId: e.userId, action, messageId: null, details: '' };
    }
    default:
      return assertNever(event);
  }
}

/** `--from`/`--to`: a time span, its end excluded. */
export interface TimeRange {
  from: number;
  until: number;
}

export const inRange = (range: TimeRange, row: AuditRow) => {
  const time = Date.parse(row.time);
  return time >= range.from && time < range.until;
};

const DAY_MS = 24 * 60 * 60 * 1000;
const instantSchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const rangeOptions = {
  from: ['--from <when>', 'only what happened at or after: an ISO date (a whole UTC day) or date-time with a zone, e.g. 2025-05-01T09:30:00Z', (value: string) => parseInstant(value).start] as const,
  to: ['--to <when>', 'only what happened at or before (a date: until that UTC day ends)', (value: string) => parseInstant(value).end] as const,
};

/** A date stands for its whole UTC day; a date-time (millisecond precision, as events are stamped) for itself. */
function parseInstant(value: string): { start: number; end: number } {
  if (!instantSchema.safeParse(value).success) throw new InvalidArgumentError('must be an ISO date (2025-05-01) or date-time with a zone (2025-05-01T09:30:00Z)');
  const start = Date.parse(value);
  return { start, end: start + (value.includes('T') ? 1 : DAY_MS) };
}

export const rangeOf = (options: { from?: number; to?: number }): TimeRange => ({ from: options.from ?? -Infinity, until: options.to ?? Infinity });
