import { DomainError } from '../../domain/errors.js';
import type { MemberRole } from '../../domain/groups.js';
import { groupExists, memberRole } from '../../projections/queries/groups.js';
import type { ReadContext } from '../../projections/queries/context.js';
import { SHREDDED } from '../../commands/stream-processor.js';
import { groupKeyScope } from '../../infra/crypto/event-sealing.js';

/** Reads of a group are for its members: FORBIDDEN for others, NOT_FOUND when there is no such group. */
export async function requireMember(read: ReadContext, groupId: string, userId: number): Promise<MemberRole> {
  const role = await memberRole(read, groupId, userId);
  if (role) return role;
  if (await groupExists(read, groupId)) throw new DomainError('FORBIDDEN', 'You are not a member of this group');
  if (await read.crypto.isShredded(groupKeyScope(groupId))) throw new DomainError('NOT_FOUND', SHREDDED);
  throw new DomainError('NOT_FOUND', 'Group not found');
}
