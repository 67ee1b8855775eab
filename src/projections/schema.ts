/**
 * The read models' tables as Kysely sees them. Rows are derived from events and can be rebuilt from them; the
 * migrations in migrations.ts create them. Message text and metadata exist here only sealed (body_sealed).
 */
import type { ColumnType, Kysely, Transaction } from 'kysely';
import type { MemberRole } from '../domain/groups.js';
import type { MessageContentType } from '../domain/messages.js';
import type { NotifyLevel } from '../domain/preferences.js';
import type { PresenceStatus } from '../infra/ephemeral/port.js';

type Timestamp = ColumnType<Date, Date, Date>;
/** MySQL has no boolean type: its tinyint(1) comes back as 0 or 1. */
type Flag = ColumnType<boolean | number, boolean, boolean>;

export interface UsersTable {
  id: number;
  username: string;
  email: string;
  /** Hashes of the case-folded username and email (see users.ts): what login looks up and uniqueness is about. */
  username_key: string;
  email_key: string;
  password_hash: string;
  created_at: Timestamp;
}

export interface GroupsTable {
  id: string;
  name: string;
  owner_user_id: number;
  /** Messages not deleted: where a new member's unread count starts. */
  live_message_count: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: number;
  role: MemberRole;
  joined_at: Timestamp;
  /** Kept by the reads projection so unread counts never scan history. */
  unread_count: ColumnType<number, number | undefined, number>;
  unread_mention_count: ColumnType<number, number | undefined, number>;
}

export interface GroupMessagesTable {
  id: string;
  group_id: string;
  /** The MessageSent event's revision in the group's stream: the message's place in the group's history. */
  seq: ColumnType<number | string | bigint, number, number>;
  sender_user_id: number;
  /** Sealed JSON {content, metadata}; null once the message is deleted. */
  body_sealed: ColumnType<Uint8Array | null, Uint8Array | null, Uint8Array | null>;
  content_type: MessageContentType;
  parent_message_id: string | null;
  thread_root_id: string | null;
  thread_reply_count: ColumnType<number, number | undefined, number>;
  status: ColumnType<'sent', 'sent' | undefined, 'sent'>;
  is_edited: Flag;
  edited_at: Timestamp | null;
  is_deleted: Flag;
  deleted_at: Timestamp | null;
  client_message_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ProjectionCheckpointsTable {
  projection: string;
  /** The global log position of the last event applied; '' before the first. */
  position: string;
  updated_at: Timestamp;
}

/** The last event of each stream a counting projection has applied (see stream-revisions.ts). */
export interface ProjectionStreamRevisionsTable {
  projection: string;
  stream_id: string;
  revision: ColumnType<number | string | bigint, number, number>;
}

export interface MessageSearchTable {
  message_id: string;
  group_id: string;
  seq: ColumnType<number | string | bigint, number, number>;
  /** The slice of the group's history the tokens are keyed for (see projections/search.ts). */
  bucket: number;
  sender_user_id: number;
  thread_root_id: string | null;
  has_link: Flag;
  created_at: Timestamp;
  /** Space-separated keyed tokens (MySQL FULLTEXT); a tsvector of them on PostgreSQL, written through SQL. */
  tokens: ColumnType<unknown, unknown, unknown>;
}

export interface MessageReadsTable {
  message_id: string;
  user_id: number;
  group_id: string;
  read_at: Timestamp;
}

export interface MessageReactionsTable {
  message_id: string;
  emoji: string;
  user_id: number;
  group_id: string;
  created_at: Timestamp;
}

export interface ChatAttachmentsTable {
  id: string;
  message_id: string;
  group_id: string;
  file_name_sealed: Uint8Array;
  file_type: string;
  file_size: ColumnType<number | string, number, number>;
  file_path: string;
  thumbnail_path: string | null;
  width: number | null;
  height: number | null;
  duration: number | null;
  is_encrypted: Flag;
  processing_status: 'pending' | 'processing' | 'completed' | 'failed';
  created_at: Timestamp;
}

export interface TypingIndicatorsTable {
  group_id: string;
  user_id: number;
  started_at: Timestamp;
  expires_at: Timestamp;
}

export interface ChatPreferencesTable {
  group_id: string;
  user_id: number;
  muted: Flag;
  notify_level: NotifyLevel;
  updated_at: Timestamp;
}

export interface MessageMentionsTable {
  message_id: string;
  mentioned_user_id: number;
  group_id: string;
  mention_type: 'user' | 'everyone';
  created_at: Timestamp;
}

export interface PinnedMessagesTable {
  group_id: string;
  message_id: string;
  pinned_by: number;
  /** Sealed note text (context `pin|<groupId>|<messageId>`), or null without a note. */
  pin_note_sealed: Uint8Array | null;
  pinned_at: Timestamp;
  /** The pin event's revision in the group's stream: newest pin first, stably. */
  pin_seq: ColumnType<number | string | bigint, number, number>;
}

export interface ChatPresenceTable {
  user_id: number;
  status: PresenceStatus;
  last_seen: Timestamp;
  updated_at: Timestamp;
}

/**
 * - pending: waiting for its first webhook attempt or, with no webhook configured, for the member to connect;
 * - delivering: a webhook attempt is under way;
 * - failed: the last attempt failed, and a retry is due at next_attempt_at;
 * - delivered: the webhook took it, or the member's socket got it;
 * - dead: every attempt failed and its job is in the dead-letter queue; the member still gets it on connecting;
 * - skipped: the message was deleted, or the member left the group, before it was delivered.
 */
export type DeliveryStatus = 'pending' | 'delivering' | 'delivered' | 'failed' | 'dead' | 'skipped';

/** A message to tell a member who had no connection when it arrived (projections/delivery.ts writes them). */
export interface DeliveryQueueTable {
  id: string;
  group_id: string;
  message_id: string;
  user_id: number;
  status: DeliveryStatus;
  /** Webhook attempts made. */
  attempts: ColumnType<number, number | undefined, number>;
  /** When the next webhook attempt is due, at the earliest; null while no job has been queued for the row. */
  next_attempt_at: Timestamp | null;
  last_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type { PresenceStatus };

export interface ReadModels {
  mirror_users: UsersTable;
  mirror_groups: GroupsTable;
  mirror_group_members: GroupMembersTable;
  mirror_group_messages: GroupMessagesTable;
  mirror_projection_checkpoints: ProjectionCheckpointsTable;
  mirror_projection_stream_revisions: ProjectionStreamRevisionsTable;
  mirror_group_message_reads: MessageReadsTable;
  mirror_group_message_search: MessageSearchTable;
  mirror_group_message_reactions: MessageReactionsTable;
  mirror_group_chat_attachments: ChatAttachmentsTable;
  mirror_group_typing_indicators: TypingIndicatorsTable;
  mirror_group_chat_preferences: ChatPreferencesTable;
  mirror_group_message_mentions: MessageMentionsTable;
  mirror_group_pinned_messages: PinnedMessagesTable;
  mirror_group_chat_presence: ChatPresenceTable;
  mirror_group_message_delivery_queue: DeliveryQueueTable;
}

export type ReadDb = Kysely<ReadModels>;
export type ReadTransaction = Transaction<ReadModels>;
