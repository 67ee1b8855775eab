/** Groups and their members: who may read and write a group, and whom its broadcasts reach. */
import type { Projection } from './projector.js';
import { firstApplication } from './stream-revisions.js';

const NAME = 'groups';
/**
 * A member's row carries the counters reads.ts and mentions.ts keep, by deltas they apply once. Replaying a member's
 * leaving and coming back would delete that row and insert a bare one the counters never reach again: membership
 * events are therefore applied once only, like theirs.
 */
const membership = new Set(['MemberAdded', 'MemberRemoved']);

export const groupsProjection: Projection = {
  name: NAME,
  tables: { writes: ['mirror_groups', 'mirror_group_members'] },
  async apply(trx, projected) {
    const { event } = projected;
    if (membership.has(event.type) && !(await firstApplication(trx, NAME, projected))) return [];
    switch (event.type) {
      case 'GroupCreated': {
        const g = event.data;
        const known = await trx.selectFrom('mirror_groups').select('id').where('id', '=', g.groupId).executeTakeFirst();
        if (known) return [];
        const createdAt = new Date(g.createdAt);
        await trx
          .insertInto('mirror_groups')
          .values({ id: g.groupId, name: g.name, owner_user_id: g.ownerUserId, created_at: createdAt, updated_at: createdAt })
          .execute();
        return [];
      }
      case 'MemberAdded': {
        const m = event.data;
        const member = trx
          .selectFrom('mirror_group_members')
          .select('role')
          .where('group_id', '=', m.groupId)
          .where('user_id', '=', m.userId);
        if (await member.executeTakeFirst()) {
          // Adding a member again changes their role; they were, and stay, subscribed.
          await trx
            .updateTable('mirror_group_members')
            .set({ role: m.role })
            .where('group_id', '=', m.groupId)
            .where('user_id', '=', m.userId)
            .execute();
          return [];
        }
        await trx
          .insertInto('mirror_group_members')
          .values({ group_id: m.groupId, user_id: m.userId, role: m.role, joined_at: new Date(m.addedAt) })
          .execute();
        return [{ kind: 'member_added', groupId: m.groupId, userId: m.userId }];
      }
      case 'MemberRemoved': {
        const m = event.data;
        await trx
          .deleteFrom('mirror_group_members')
          .where('group_id', '=', m.groupId)
          .where('user_id', '=', m.userId)
          .execute();
        return [{ kind: 'member_removed', groupId: m.groupId, userId: m.userId }];
      }
      default:
        return [];
    }
  },
};
