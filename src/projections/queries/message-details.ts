/**
 * What a message shows besides its own row — reactions, read receipts, its pin, and for a reply a preview of its
 * parent — loaded for a whole page with one query each, however long the page.
 */
import { groupKeyScope } from '../../infra/crypto/event-sealing.js';
import type { GroupEncryptionManager } from '../../infra/crypto/group-encryption-manager.js';
import type { ReadDb } from '../schema.js';
import type { MessageSent } from '../../domain/messages.js';
import {
  chatMessageOf,
  openMessageBody,
  toChatMessage,
  type ChatMessage,
  type ChatMessageMetadata,
  type ChatMessageRow,
  type MessageBody,
  type ReactionSummary,
  type ReplyPreview,
} from './chat-message.js';

/**
 * Rows of one page as `viewerId` sees them (`hasReacted` is theirs; null: nobody's, for broadcasts). `opened`: bodies
 * the caller has decrypted already, by message id (search has, having confirmed its hits on them); the others are
 * opened here.
 */
export async function toChatMessages(
  db: ReadDb,
  crypto: GroupEncryptionManager,
  rows: ChatMessageRow[],
  viewerId: number | null,
  opened: ReadonlyMap<string, MessageBody> = new Map(),
): Promise<ChatMessage[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [reactions, readers, pins, previews] = await together(db, [
    () => reactionSummaries(db, ids, viewerId),
    () => readersOf(db, ids),
    () => pinsOf(db, crypto, rows),
    () => replyPreviews(db, crypto, rows),
  ] as const);
  return Promise.all(
    rows.map((row) => {
      const preview = previews.get(row.id);
      const metadata: ChatMessageMetadata = { ...pins.get(row.id), ...(preview ? { replyPreview: preview } : {}) };
      const details = { reactions: reactions.get(row.id) ?? [], readBy: readers.get(row.id) ?? [], metadata };
      const body = opened.get(row.id);
      return body ? chatMessageOf(row, body, details) : toChatMessage(crypto, row, details);
    }),
  );
}

/**
 * Runs the queries concurrently on the pool, so that their round trips overlap (PGlite's single connection queues
 * them); one after the other inside a transaction, which has a single connection to share.
 */
async function together<const T extends readonly (() => Promise<unknown>)[]>(db: ReadDb, queries: T): Promise<{ -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  if (!db.isTransaction) return Promise.all(queries.map((query) => query())) as never;
  const results: unknown[] = [];
  for (const query of queries) results.push(await query());
  return results as never;
}

/**
 * Messages the projector has just stored, from their MessageSent events. Their reactions, reads, pins and replies come
 * later in the log, so only the senders' names and the replies' previews are worth a query: one each, for all of them.
 */
export async function newChatMessages(
  db: ReadDb,
  crypto: GroupEncryptionManager,
  sends: ReadonlyArray<MessageSent['data']>,
  /** Senders' names the caller knows already (usernames never change); those looked up here are added to it. */
  usernames: Map<number, string> = new Map(),
): Promise<ChatMessage[]> {
  const unknown = [...new Set(sends.map((m) => m.senderUserId))].filter((id) => !usernames.has(id));
  const senders = unknown.length === 0 ? [] : await db.selectFrom('mirror_users').select(['id', 'username']).where('id', 'in', unknown).execute();
  for (const u of senders) usernames.set(u.id, u.username);
  const rows = sends.map(
    (m): ChatMessageRow => ({
      id: m.messageId,
      group_id: m.groupId,
      sender_user_id: m.senderUserId,
      sender_username: usernames.get(m.senderUserId) ?? null,
      body_sealed: null,
      content_type: m.contentType,
      parent_message_id: m.parentMessageId,
      thread_root_id: m.threadRootId,
      thread_reply_count: 0,
      status: 'sent',
      is_edited: false,
      edited_at: null,
      is_deleted: false,
      deleted_at: null,
      client_message_id: m.clientMessageId,
      created_at: new Date(m.sentAt),
      updated_at: new Date(m.sentAt),
    }),
  );
  const previews = await replyPreviews(db, crypto, rows);
  return rows.map((row, i) => {
    const preview = previews.get(row.id);
    const body = { content: sends[i]!.content, metadata: sends[i]!.metadata ?? {} };
    return chatMessageOf(row, body, { reactions: [], readBy: [], metadata: preview ? { replyPreview: preview } : {} });
  });
}

/** Per message, its emoji in the order they were first used, each with its reactors in the order they reacted. */
export async function reactionSummaries(db: ReadDb, messageIds: string[], viewerId: number | null): Promise<Map<string, ReactionSummary[]>> {
  const rows = await db
    .selectFrom('mirror_group_message_reactions as r')
    .leftJoin('mirror_users as u', 'u.id', 'r.user_id')
    .select(['r.message_id', 'r.emoji', 'r.user_id', 'u.username'])
    .where('r.message_id', 'in', messageIds)
    .orderBy('r.created_at')
    .orderBy('r.emoji')
    .orderBy('r.user_id')
    .execute();
  const byMessage = new Map<string, Map<string, ReactionSummary>>();
  for (const row of rows) {
    const summaries = byMessage.get(row.message_id) ?? new Map<string, ReactionSummary>();
    byMessage.set(row.message_id, summaries);
    const summary = summaries.get(row.emoji) ?? { emoji: row.emoji, count: 0, users: [], hasReacted: false };
    summaries.set(row.emoji, summary);
    summary.count++;
    summary.users.push({ userId: row.user_id, username: row.username ?? '' });
    if (row.user_id === viewerId) summary.hasReacted = true;
  }
  return new Map([...byMessage].map(([id, summaries]) => [id, [...summaries.values()]]));
}

async function readersOf(db: ReadDb, messageIds: string[]): Promise<Map<string, number[]>> {
  const rows = await db
    .selectFrom('mirror_group_message_reads')
    .select(['message_id', 'user_id'])
    .where('message_id', 'in', messageIds)
    .orderBy('read_at')
    .orderBy('user_id')
    .execute();
  const readers = new Map<string, number[]>();
  for (const row of rows) {
    const ofMessage = readers.get(row.message_id) ?? [];
    readers.set(row.message_id, ofMessage);
    ofMessage.push(row.user_id);
  }
  return readers;
}

const pinNoteContext = (groupId: string, messageId: string) => `pin|${groupId}|${messageId}`;

export async function sealPinNote(crypto: GroupEncryptionManager, groupId: string, messageId: string, note: string): Promise<Uint8Array> {
  return crypto.sealText(groupKeyScope(groupId), note, pinNoteContext(groupId, messageId));
}

export async function openPinNote(crypto: GroupEncryptionManager, groupId: string, messageId: string, sealed: Uint8Array): Promise<string> {
  return crypto.openText(groupKeyScope(groupId), sealed, pinNoteContext(groupId, messageId));
}

type PinFields = Required<Pick<ChatMessageMetadata, 'pinNote' | 'pinnedAt' | 'pinnedBy'>>;

async function pinsOf(db: ReadDb, crypto: GroupEncryptionManager, messages: ChatMessageRow[]): Promise<Map<string, PinFields>> {
  const rows = await db
    .selectFrom('mirror_group_pinned_messages')
    .select(['group_id', 'message_id', 'pinned_by', 'pin_note_sealed', 'pinned_at'])
    .where('group_id', 'in', [...new Set(messages.map((m) => m.group_id))])
    .where('message_id', 'in', messages.map((m) => m.id))
    .execute();
  const pins = await Promise.all(
    rows.map(async (row): Promise<[string, PinFields]> => [
      row.message_id,
      {
        pinNote: row.pin_note_sealed ? await openPinNote(crypto, row.group_id, row.message_id, row.pin_note_sealed) : null,
        pinnedAt: row.pinned_at.toISOString(),
        pinnedBy: row.pinned_by,
      },
    ]),
  );
  return new Map(pins);
}

const PREVIEW_LENGTH = 100;
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** ~100 characters, never cutting an emoji or accented letter in two. */
function preview(text: string): string {
  let count = 0;
  for (const { index } of graphemes.segment(text)) {
    if (count++ === PREVIEW_LENGTH) return `${text.slice(0, index)}…`;
  }
  return text;
}

/** Read from the parent now, so an edit shows and a deletion leaves ''. A deleted reply quotes nothing. */
async function replyPreviews(db: ReadDb, crypto: GroupEncryptionManager, rows: ChatMessageRow[]): Promise<Map<string, ReplyPreview>> {
  const replies = rows.filter((r) => r.parent_message_id !== null && !r.is_deleted);
  if (replies.length === 0) return new Map();
  const parents = await db
    .selectFrom('mirror_group_messages as m')
    .leftJoin('mirror_users as u', 'u.id', 'm.sender_user_id')
    .select(['m.id', 'm.group_id', 'm.body_sealed', 'm.is_deleted', 'u.username'])
    .where('m.id', 'in', [...new Set(replies.map((r) => r.parent_message_id!))])
    .execute();
  const quoted = new Map(
    await Promise.all(
      parents.map(async (p): Promise<[string, ReplyPreview]> => {
        const content = p.body_sealed && !p.is_deleted ? (await openMessageBody(crypto, p.group_id, p.id, p.body_sealed)).content : '';
        return [p.id, { messageId: p.id, senderUsername: p.username ?? '', content: preview(content) }];
      }),
    ),
  );
  return new Map(replies.flatMap((r) => (quoted.has(r.parent_message_id!) ? [[r.id, quoted.get(r.parent_message_id!)!] as const] : [])));
}
