/**
 * Presence in the read models (mirror_group_chat_presence): a durable copy of what the ephemeral store decides, so
 * that a user's last status and lastSeen survive restarts. Not fed by events: presence is not one (ARCHITECTURE.md,
 * "Ephemeral"), so the API writes each change here as it announces it.
 */
import type { UserPresence } from '../infra/ephemeral/port.js';
import { isUniqueViolation } from '../infra/sql/dialect.js';
import { readDb, type ReadContext } from './queries/context.js';

/**
 * Processes announce changes concurrently, so a copy may arrive after a newer one: `changedAt` (strictly increasing
 * per user) decides, and an older copy changes nothing.
 */
export async function savePresence(ctx: Pick<ReadContext, 'db'>, presence: UserPresence): Promise<void> {
  const db = readDb(ctx);
  const row = { status: presence.status, last_seen: presence.lastSeen, updated_at: presence.changedAt };
  const update = () =>
    db
      .updateTable('mirror_group_chat_presence')
      .set(row)
      .where('user_id', '=', presence.userId)
      .where('updated_at', '<', presence.changedAt)
      .executeTakeFirst();
  if ((await update()).numUpdatedRows > 0n) return;
  try {
    await db.insertInto('mirror_group_chat_presence').values({ user_id: presence.userId, ...row }).execute();
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // The row exists: newer than this copy, or written by a racing first insert that this one must still follow.
    await update();
  }
}
