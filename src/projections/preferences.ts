/** Each member's notification preferences per group (mirror_group_chat_preferences), for the API and offline delivery. */
import type { Projection } from './projector.js';

export const preferencesProjection: Projection = {
  name: 'preferences',
  tables: { writes: ['mirror_group_chat_preferences'] },
  async apply(trx, { event }) {
    if (event.type !== 'PreferencesUpdated') return [];
    const p = event.data;
    // The event carries the whole result, so applying it again writes the same row.
    const row = { muted: p.muted, notify_level: p.notifyLevel, updated_at: new Date(p.updatedAt) };
    const existing = await trx
      .selectFrom('mirror_group_chat_preferences')
      .select('user_id')
      .where('group_id', '=', p.groupId)
      .where('user_id', '=', p.userId)
      .executeTakeFirst();
    if (existing) {
      await trx
        .updateTable('mirror_group_chat_preferences')
        .set(row)
        .where('group_id', '=', p.groupId)
        .where('user_id', '=', p.userId)
        .execute();
    } else {
      await trx.insertInto('mirror_group_chat_preferences').values({ group_id: p.groupId, user_id: p.userId, ...row }).execute();
    }
    return [];
  },
};
