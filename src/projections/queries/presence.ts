import type { PresenceStatus } from '../../infra/ephemeral/port.js';
import { readDb, type ReadContext } from './context.js';

export interface StoredPresence {
  userId: number;
  /** Null for a member whose presence was never recorded. */
  status: PresenceStatus | null;
  lastSeen: Date | null;
}

/** Every member of the group with the presence last recorded for them, in the order member lists use. */
export async function storedPresenceOfMembers(ctx: Pick<ReadContext, 'db'>, groupId: string): Promise<StoredPresence[]> {
  const rows = await readDb(ctx)
    .selectFrom('mirror_group_members as gm')
    .leftJoin('mirror_group_chat_presence as p', 'p.user_id', 'gm.user_id')
    .select(['gm.user_id', 'p.status', 'p.last_seen'])
    .where('gm.group_id', '=', groupId)
    .orderBy('gm.joined_at')
    .orderBy('gm.user_id')
    .execute();
  return rows.map((r) => ({ userId: r.user_id, status: r.status, lastSeen: r.last_seen }));
}
