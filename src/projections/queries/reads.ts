import { readDb, type ReadContext } from './context.js';

export interface UnreadCounts {
  unreadCount: number;
  unreadMentionCount: number;
}

/** One member row, however long the group's history (the reads and mentions projections keep the counters); null for a non-member. */
export async function unreadCounts(ctx: Pick<ReadContext, 'db'>, groupId: string, userId: number): Promise<UnreadCounts | null> {
  const row = await readDb(ctx)
    .selectFrom('mirror_group_members')
    .select(['unread_count', 'unread_mention_count'])
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? { unreadCount: row.unread_count, unreadMentionCount: row.unread_mention_count } : null;
}
