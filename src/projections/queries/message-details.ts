/**
 * What a message shows besides its own row — reactions, read receipts, its pin, and for a reply a preview of its
 * parent — loaded for a whole page with one query, however long the page.
 */
import { sql } from 'kysely';
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
  const details = await detailRows(db, rows);
  const of = (kind: DetailRow['kind']) => details.filter((d) => d.kind === kind);
  const reactions = summarizeReactions(of('reaction') as ReactionRow[], viewerId);
  const readers = new Map<string, number[]>();
  for (const read of of('read')) {
    const ofMessage = readers.get(read.message_id) ?? [];
    readers.set(read.message_id, ofMessage);
    ofMessage.push(read.user_id!);
  }
  const [pins, previews] = await Promise.all([
    openPins(crypto, of('pin')),
    previewsOf(crypto, rows, of('parent').map((p) => ({ id: p.message_id, group_id: p.group_id!, sealed: p.sealed, username: p.username }))),
  ]);
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

/** One reaction, read receipt or pin of a page's messages, or a parent its replies quote; `kind` says which. */
interface DetailRow {
  kind: 'reaction' | 'read' | 'pin' | 'parent';
  /** The reacted, read or pinned message, or the quoted parent. */
  message_id: string;
  /** Pins and parents: the group whose key opens `sealed`. */
  group_id: string | null;
  emoji: string | null;
  /** Who reacted, read, pinned, or sent the parent. */
  user_id: number | null;
  username: string | null;
  at: Date;
  /** A pin's note, a parent's body (null once the parent is deleted). */
  sealed: Uint8Array | null;
}

/**
 * Everything a page shows besides its rows, in one query: the details of a page are a few rows, and each round trip
 * costs the database and this process more than they do. In the order reactions and reads are listed in.
 */
async function detailRows(db: ReadDb, rows: ChatMessageRow[]): Promise<DetailRow[]> {
  const ids = rows.map((r) => r.id);
  const parentIds = [...new Set(replies(rows).map((r) => r.parent_message_id!))];
  const none = sql<null>`null`;
  // Pins first: PostgreSQL types a union's columns branch by branch, and theirs give every column a type.
  const details = db
    .selectFrom('mirror_group_pinned_messages')
    .select([sql<DetailRow['kind']>`'pin'`.as('kind'), 'message_id', 'group_id', none.as('emoji'), 'pinned_by as user_id', none.as('username')])
    .select(['pinned_at as at', 'pin_note_sealed as sealed'])
    .where('group_id', 'in', [...new Set(rows.map((m) => m.group_id))])
    .where('message_id', 'in', ids)
    .$castTo<DetailRow>()
    .unionAll(
      db
        .selectFrom('mirror_group_message_reactions as r')
        .leftJoin('mirror_users as u', 'u.id', 'r.user_id')
        .select([sql<DetailRow['kind']>`'reaction'`.as('kind'), 'r.message_id', none.as('group_id'), 'r.emoji', 'r.user_id', 'u.username', 'r.created_at as at', none.as('sealed')])
        .where('r.message_id', 'in', ids)
        .$castTo<DetailRow>(),
    )
    .unionAll(
      db
        .selectFrom('mirror_group_message_reads')
        .select([sql<DetailRow['kind']>`'read'`.as('kind'), 'message_id', none.as('group_id'), none.as('emoji'), 'user_id', none.as('username'), 'read_at as at', none.as('sealed')])
        .where('message_id', 'in', ids)
        .$castTo<DetailRow>(),
    )
    .$if(parentIds.length > 0, (q) =>
      q.unionAll(
        db
          .selectFrom('mirror_group_messages as m')
          .leftJoin('mirror_users as u', 'u.id', 'm.sender_user_id')
          .select([sql<DetailRow['kind']>`'parent'`.as('kind'), 'm.id as message_id', 'm.group_id', none.as('emoji'), 'm.sender_user_id as user_id', 'u.username', 'm.created_at as at'])
          .select(sql<Uint8Array | null>`case when m.is_deleted then null else m.body_sealed end`.as('sealed'))
          .where('m.id', 'in', parentIds)
          .$castTo<DetailRow>(),
      ),
    );
  return (await details.execute()).sort(listedOrder);
}

/**
 * Reactions and reads are listed oldest first, then by emoji and user. Sorted here, not by the database: ordering a
 * union makes MariaDB copy it into a temporary table, on disk when a column is a blob.
 */
const listedOrder = (a: Listed, b: Listed) => a.at.getTime() - b.at.getTime() || codeOrder(a.emoji ?? '', b.emoji ?? '') || (a.user_id ?? 0) - (b.user_id ?? 0);

const codeOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Listed {
  at: Date;
  emoji: string | null;
  user_id: number | null;
}

const replies = (rows: ChatMessageRow[]) => rows.filter((r) => r.parent_message_id !== null && !r.is_deleted);

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
    .select(['r.message_id', 'r.emoji', 'r.user_id', 'u.username', 'r.created_at as at'])
    .where('r.message_id', 'in', messageIds)
    .execute();
  return summarizeReactions(rows.sort(listedOrder), viewerId);
}

interface ReactionRow {
  message_id: string;
  emoji: string;
  user_id: number;
  username: string | null;
}

/** Reactions listed oldest first, as each message's summaries. */
function summarizeReactions(rows: ReactionRow[], viewerId: number | null): Map<string, ReactionSummary[]> {
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

const pinNoteContext = (groupId: string, messageId: string) => `pin|${groupId}|${messageId}`;

export async function sealPinNote(crypto: GroupEncryptionManager, groupId: string, messageId: string, note: string): Promise<Uint8Array> {
  return crypto.sealText(groupKeyScope(groupId), note, pinNoteContext(groupId, messageId));
}

export async function openPinNote(crypto: GroupEncryptionManager, groupId: string, messageId: string, sealed: Uint8Array): Promise<string> {
  return crypto.openText(groupKeyScope(groupId), sealed, pinNoteContext(groupId, messageId));
}

type PinFields = Required<Pick<ChatMessageMetadata, 'pinNote' | 'pinnedAt' | 'pinnedBy'>>;

async function openPins(crypto: GroupEncryptionManager, pins: DetailRow[]): Promise<Map<string, PinFields>> {
  const opened = await Promise.all(
    pins.map(async (pin): Promise<[string, PinFields]> => [
      pin.message_id,
      {
        pinNote: pin.sealed ? await openPinNote(crypto, pin.group_id!, pin.message_id, pin.sealed) : null,
        pinnedAt: pin.at.toISOString(),
        pinnedBy: pin.user_id,
      },
    ]),
  );
  return new Map(opened);
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
  const parentIds = [...new Set(replies(rows).map((r) => r.parent_message_id!))];
  if (parentIds.length === 0) return new Map();
  const parents = await db
    .selectFrom('mirror_group_messages as m')
    .leftJoin('mirror_users as u', 'u.id', 'm.sender_user_id')
    .select(['m.id', 'm.group_id', 'm.body_sealed', 'm.is_deleted', 'u.username'])
    .where('m.id', 'in', parentIds)
    .execute();
  return previewsOf(crypto, rows, parents.map((p) => ({ ...p, sealed: p.is_deleted ? null : p.body_sealed })));
}

/** The replies' previews, from their parents' rows (`sealed` null once a parent is deleted). */
async function previewsOf(
  crypto: GroupEncryptionManager,
  rows: ChatMessageRow[],
  parents: Array<{ id: string; group_id: string; sealed: Uint8Array | null; username: string | null }>,
): Promise<Map<string, ReplyPreview>> {
  const quoted = new Map(
    await Promise.all(
      parents.map(async (p): Promise<[string, ReplyPreview]> => {
        const content = p.sealed ? (await openMessageBody(crypto, p.group_id, p.id, p.sealed)).content : '';
        return [p.id, { messageId: p.id, senderUsername: p.username ?? '', content: preview(content) }];
      }),
    ),
  );
  return new Map(replies(rows).flatMap((r) => (quoted.has(r.parent_message_id!) ? [[r.id, quoted.get(r.parent_message_id!)!] as const] : [])));
}
