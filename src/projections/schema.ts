/**
 * The read models' tables as Kysely sees them. Rows are derived from events and can be rebuilt from them; the
 * migrations in migrations.ts create them. Message text and metadata exist here only sealed (body_sealed).
 */
import type { ColumnType, Kysely, Transaction } from 'kysely';
import type { MemberRole } from '../domain/groups.js';
import type { MessageContentType } from '../domain/messages.js';

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
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: number;
  role: MemberRole;
  joined_at: Timestamp;
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

export interface ReadModels {
  mirror_users: UsersTable;
  mirror_groups: GroupsTable;
  mirror_group_members: GroupMembersTable;
  mirror_group_messages: GroupMessagesTable;
  mirror_projection_checkpoints: ProjectionCheckpointsTable;
}

export type ReadDb = Kysely<ReadModels>;
export type ReadTransaction = Transaction<ReadModels>;
