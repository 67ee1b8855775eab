import { DomainError } from '../../domain/errors.js';
import type { MemberRole } from '../../domain/groups.js';
import { groupExists, memberRole } from '../../projections/queries/groups.js';
import type { ReadContext } from '../../projections/queries/context.js';

/** Reads of a group are for its members: FORBIDDEN for others, NOT_FOUND when there is no such group. */
export async function requireMember(read: ReadContext, groupId: string, userId: number): Promise<MemberRole> {
  const role = await memberRole(read, groupId, userId);
  if (role) return role;
  if (await groupExists(read, groupId)) throw new DomainError('FORBIDDEN', 'You are not a member of this group');
  throw new DomainError('NOT_FOUND', 'Group not found');
}
