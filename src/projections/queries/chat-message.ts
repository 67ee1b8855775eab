/**
 * The guide's ChatMessage ("TypeScript Interfaces" section), with dates as the ISO strings JSON carries, and the one
 * mapping from a stored row to it — used by REST and WS reads and by the projector's broadcasts alike.
 */
import type { MessageContentType, MessageMetadata } from '../../domain/messages.js';
import type { GroupEncryptionManager } from '../../infra/crypto/group-encryption-manager.js';
import { groupKeyScope } from '../../infra/crypto/event-sealing.js';
import type { ReadDb } from '../schema.js';

export type MessageStatus = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

/** The guide's ReactionSummary; `hasReacted` is always the viewer's own. */
export interface ReactionSummary {
  emoji: string;
  count: number;
  users: Array<{ userId: number; username: string }>;
  hasReacted: boolean;
}

/** The guide's ReplyPreview: the parent of a reply as it reads now (~100 characters, '' once deleted). */
export interface ReplyPreview {
  messageId: string;
  senderUsername: string;
  content: string;
}

/** The guide's MessageMetadata: what the sender wrote, and what the server adds when the message is read. */
export interface ChatMessageMetadata extends MessageMetadata {
  replyPreview?: ReplyPreview;
  pinNote?: string | null;
  pinnedAt?: string | null;
  pinnedBy?: number | null;
}

/** What a message shows besides its own row; message-details.ts loads it for a whole page at once. */
export interface MessageDetails {
  reactions: ReactionSummary[];
  readBy: number[];
  metadata: ChatMessageMetadata;
}

export interface ChatMessage {
  id: string;
  groupId: string;
  senderUserId: number;
  senderUsername?: string;
  /** '' once deleted. */
  content: string;
  contentType: MessageContentType;
  parentMessageId: string | null;
  threadRootId: string | null;
  threadReplyCount: number;
  /** {} once deleted. */
  metadata: ChatMessageMetadata;
  status: MessageStatus;
  isEdited: boolean;
  editedAt: string | null;
  isDeleted: boolean;
  deletedAt: string | null;
  encryptionKeyId: string | null;
  clientMessageId: string | null;
  createdAt: string;
  updatedAt: string;
  reactions: ReactionSummary[];
  readBy: number[];
}

/** What body_sealed holds: everything about a message that may quote what people wrote. */
export interface MessageBody {
  content: string;
  metadata: MessageMetadata;
}

const bodyContext = (groupId: string, messageId: string) => `message|${groupId}|${messageId}`;

export async function sealMessageBody(
  crypto: GroupEncryptionManager,
  groupId: string,
  messageId: string,
  body: MessageBody,
): Promise<Uint8Array> {
  return crypto.sealText(groupKeyScope(groupId), JSON.stringify(body), bodyContext(groupId, messageId));
}

export async function openMessageBody(
  crypto: GroupEncryptionManager,
  groupId: string,
  messageId: string,
  sealed: Uint8Array,
): Promise<MessageBody> {
  return JSON.parse(await crypto.openText(groupKeyScope(groupId), sealed, bodyContext(groupId, messageId))) as MessageBody;
}

/** Messages with their sender's name; narrow with `where` on `m.` columns. Works inside a transaction too. */
export function selectChatMessages(db: ReadDb) {
  return db
    .selectFrom('mirror_group_messages as m')
    .leftJoin('mirror_users as u', 'u.id', 'm.sender_user_id')
    .select([
      'm.id',
      'm.group_id',
      'm.sender_user_id',
      'u.username as sender_username',
      'm.body_sealed',
      'm.content_type',
      'm.parent_message_id',
      'm.thread_root_id',
      'm.thread_reply_count',
      'm.status',
      'm.is_edited',
      'm.edited_at',
      'm.is_deleted',
      'm.deleted_at',
      'm.client_message_id',
      'm.created_at',
      'm.updated_at',
    ]);
}

export type ChatMessageRow = Awaited<ReturnType<ReturnType<typeof selectChatMessages>['executeTakeFirstOrThrow']>>;

const iso = (date: Date | null) => date?.toISOString() ?? null;

export async function toChatMessage(crypto: GroupEncryptionManager, row: ChatMessageRow, details: MessageDetails): Promise<ChatMessage> {
  const body: MessageBody =
    row.body_sealed && !row.is_deleted
      ? await openMessageBody(crypto, row.group_id, row.id, row.body_sealed)
      : { content: '', metadata: {} };
  return chatMessageOf(row, body, details);
}

/** The mapping itself, for a body already at hand (the projector has it in clear in the event). */
export function chatMessageOf(row: ChatMessageRow, body: MessageBody, details: MessageDetails): ChatMessage {
  return {
    id: row.id,
    groupId: row.group_id,
    senderUserId: row.sender_user_id,
    ...(row.sender_username !== null ? { senderUsername: row.sender_username } : {}),
    content: body.content,
    contentType: row.content_type,
    parentMessageId: row.parent_message_id,
    threadRootId: row.thread_root_id,
    threadReplyCount: row.thread_reply_count,
    metadata: { ...body.metadata, ...details.metadata },
    status: row.status,
    isEdited: Boolean(row.is_edited),
    editedAt: iso(row.edited_at),
    isDeleted: Boolean(row.is_deleted),
    deletedAt: iso(row.deleted_at),
    encryptionKeyId: null,
    clientMessageId: row.client_message_id,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    reactions: details.reactions,
    readBy: details.readBy,
  };
}
