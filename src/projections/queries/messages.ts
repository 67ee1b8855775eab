import { DomainError } from '../../domain/errors.js';
import { selectChatMessages, type ChatMessage } from './chat-message.js';
import { readDb, type ReadContext } from './context.js';
import { toChatMessages } from './message-details.js';

/** The message as `viewerId` sees it (reactions say whether they reacted). */
export async function getMessage(ctx: ReadContext, groupId: string, messageId: string, viewerId: number): Promise<ChatMessage | null> {
  const row = await selectChatMessages(readDb(ctx))
    .where('m.group_id', '=', groupId)
    .where('m.id', '=', messageId)
    .executeTakeFirst();
  return row ? (await toChatMessages(readDb(ctx), ctx.crypto, [row], viewerId))[0]! : null;
}

export interface ListMessagesInput {
  groupId: string;
  /** A message id of the group; none: start at the newest (`before`) or the oldest (`after`) message. */
  cursor?: string | null;
  limit: number;
  direction: 'before' | 'after';
  /** Whose `hasReacted` the messages carry. */
  viewerId: number;
  /** Only the replies of the thread with this root (see threads.ts). */
  threadRootId?: string;
}

/** The guide's PaginatedMessages. */
export interface MessagePage {
  messages: ChatMessage[];
  pagination: { hasMore: boolean; nextCursor: string | null; prevCursor: string | null };
}

/**
 * One page of a group's history, oldest first in the array whichever the direction. `nextCursor` continues in the
 * same direction, `prevCursor` turns back. Each page is a range scan of the (group_id, seq) key: no offsets.
 */
export async function listMessages(ctx: ReadContext, input: ListMessagesInput): Promise<MessagePage> {
  const db = readDb(ctx);
  const { groupId, cursor, limit, direction, viewerId, threadRootId } = input;
  const before = direction === 'before';

  // The page's ids first, from the index alone; the rows after, by id. Asked for whole rows at once, MariaDB may walk
  // the group's index entry by entry from its newest end to a deep cursor (a minute at a million messages).
  let ids = db
    .selectFrom('mirror_group_messages')
    .select('id')
    .where('group_id', '=', groupId)
    .orderBy('seq', before ? 'desc' : 'asc')
    .limit(limit + 1);
  if (threadRootId) ids = ids.where('thread_root_id', '=', threadRootId);
  if (cursor) {
    const anchor = await db
      .selectFrom('mirror_group_messages')
      .select('seq')
      .where('group_id', '=', groupId)
      .where('id', '=', cursor)
      .$if(threadRootId !== undefined, (q) => q.where('thread_root_id', '=', threadRootId!))
      .executeTakeFirst();
    if (!anchor) throw new DomainError('NOT_FOUND', `Cursor message not found in this ${threadRootId ? 'thread' : 'group'}`);
    ids = ids.where('seq', before ? '<' : '>', Number(anchor.seq));
  }

  const rows = await selectChatMessages(db)
    .innerJoin(ids.as('page'), 'page.id', 'm.id')
    .orderBy('m.seq', before ? 'desc' : 'asc')
    .execute();
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit);
  if (before) page.reverse();
  const messages = await toChatMessages(db, ctx.crypto, page, viewerId);

  const oldest = messages[0]?.id ?? null;
  const newest = messages[messages.length - 1]?.id ?? null;
  return {
    messages,
    pagination: {
      hasMore,
      nextCursor: hasMore ? (before ? oldest : newest) : null,
      prevCursor: before ? newest : oldest,
    },
  };
}
