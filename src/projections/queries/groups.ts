import type { MemberRole } from '../../domain/groups.js';
import { readDb, type ReadContext } from './context.js';

export interface GroupMember {
  userId: number;
  username: string;
  role: MemberRole;
  joinedAt: string;
}

export interface GroupSummary {
  id: string;
  name: string;
  ownerUserId: number;
  createdAt: string;
  updatedAt: string;
}

export interface Group extends GroupSummary {
  members: GroupMember[];
}

/** A group as one of its member lists it: with that member's own role and unread counts. */
export interface MemberGroup extends GroupSummary {
  role: MemberRole;
  unreadCount: number;
  unreadMentionCount: number;
}

type Db = Pick<ReadContext, 'db'>;

export async function getGroup(ctx: Db, groupId: string): Promise<Group | null> {
  const db = readDb(ctx);
  const group = await db
    .selectFrom('mirror_groups')
    .select(['id', 'name', 'owner_user_id', 'created_at', 'updated_at'])
    .where('id', '=', groupId)
    .executeTakeFirst();
  if (!group) return null;
  const members = await db
    .selectFrom('mirror_group_members as gm')
    .innerJoin('mirror_users as u', 'u.id', 'gm.user_id')
    .select(['gm.user_id', 'u.username', 'gm.role', 'gm.joined_at'])
    .where('gm.group_id', '=', groupId)
    .orderBy('gm.joined_at')
    .orderBy('gm.user_id')
    .execute();
  return {
    ...summary(group),
    members: members.map((m) => ({ userId: m.user_id, username: m.username, role: m.role, joinedAt: m.joined_at.toISOString() })),
  };
}

export async function groupExists(ctx: Db, groupId: string): Promise<boolean> {
  const row = await readDb(ctx).selectFrom('mirror_groups').select('id').where('id', '=', groupId).executeTakeFirst();
  return row !== undefined;
}

/** The groups `userId` belongs to, most recently created first. */
export async function listGroupsOf(ctx: Db, userId: number): Promise<MemberGroup[]> {
  const rows = await readDb(ctx)
    .selectFrom('mirror_group_members as gm')
    .innerJoin('mirror_groups as g', 'g.id', 'gm.group_id')
    .select(['g.id', 'g.name', 'g.owner_user_id', 'g.created_at', 'g.updated_at', 'gm.role', 'gm.unread_count', 'gm.unread_mention_count'])
    .where('gm.user_id', '=', userId)
    .orderBy('g.created_at', 'desc')
    .orderBy('g.id')
    .execute();
  return rows.map((row) => ({ ...summary(row), role: row.role, unreadCount: row.unread_count, unreadMentionCount: row.unread_mention_count }));
}

/** The member's role, or null when `userId` is not (or no longer) a member. */
export async function memberRole(ctx: Db, groupId: string, userId: number): Promise<MemberRole | null> {
  const row = await readDb(ctx)
    .selectFrom('mirror_group_members')
    .select('role')
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.role ?? null;
}

function summary(row: { id: string; name: string; owner_user_id: number; created_at: Date; updated_at: Date }): GroupSummary {
  return {
    id: row.id,
    name: row.name,
    ownerUserId: row.owner_user_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
