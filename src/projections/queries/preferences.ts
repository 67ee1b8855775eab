import { defaultPreferences, type Preferences } from '../../domain/preferences.js';
import { readDb, type ReadContext } from './context.js';

/** A member's preferences in a group; the defaults until they set any. */
export async function getPreferences(ctx: Pick<ReadContext, 'db'>, groupId: string, userId: number): Promise<Preferences> {
  const row = await readDb(ctx)
    .selectFrom('mirror_group_chat_preferences')
    .select(['muted', 'notify_level'])
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? { muted: Boolean(row.muted), notifyLevel: row.notify_level } : { ...defaultPreferences };
}
