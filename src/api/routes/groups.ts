/** ARCHITECTURE.md "Contract additions": groups and their members. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import { MAX_GROUP_NAME_LENGTH } from '../../domain/groups.js';
import { getGroup, listGroupsOf } from '../../projections/queries/groups.js';
import { getUser } from '../../projections/queries/users.js';
import { requireAuth } from '../auth/authenticate.js';
import type { ApiDeps } from '../deps.js';
import { readAfterWrite } from '../read-after-write.js';
import { groupIdSchema, userIdSchema, withoutControlCharacters } from '../schemas/messages.js';
import { parseInput } from '../validation.js';
import { requireMember } from './access.js';

export const createGroupBody = z.strictObject({
  name: withoutControlCharacters(
    z.string().trim().min(1, 'must not be empty').max(MAX_GROUP_NAME_LENGTH, `must be at most ${MAX_GROUP_NAME_LENGTH} characters`),
  ),
});
const groupParams = z.strictObject({ groupId: groupIdSchema });
export const addMemberBody = z.strictObject({
  userId: userIdSchema,
  role: z.enum(['admin', 'member']).default('member'),
});
const memberParams = z.strictObject({ groupId: groupIdSchema, userId: z.coerce.number().pipe(userIdSchema) });

export async function groupRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  requireAuth(app, deps.tokens);
  const groupOrFail = async (groupId: string) => {
    const group = await getGroup(deps.read, groupId);
    if (!group) throw new DomainError('NOT_FOUND', 'Group not found');
    return group;
  };

  app.post('/mirror/api/groups', async (request, reply) => {
    const { name } = parseInput(createGroupBody, request.body, 'body');
    const { groupId, position } = await deps.commands.createGroup({ ownerUserId: request.user.id, ownerUsername: request.user.username, name });
    const group = await readAfterWrite(deps, position, () => getGroup(deps.read, groupId));
    return reply.status(201).send({ success: true, data: { group } });
  });

  app.get('/mirror/api/groups', async (request) => {
    return { success: true, data: { groups: await listGroupsOf(deps.read, request.user.id) } };
  });

  app.get('/mirror/api/groups/:groupId', async (request) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    await requireMember(deps.read, groupId, request.user.id);
    return { success: true, data: { group: await groupOrFail(groupId) } };
  });

  app.post('/mirror/api/groups/:groupId/members', async (request, reply) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    const { userId, role } = parseInput(addMemberBody, request.body, 'body');
    const user = await getUser(deps.read, userId);
    if (!user) throw new DomainError('NOT_FOUND', 'User not found');
    const { position } = await deps.commands.addMember({ groupId, actorUserId: request.user.id, userId, username: user.username, role });
    await readAfterWrite(deps, position, async () => true);
    return reply.status(201).send({ success: true, data: { group: await groupOrFail(groupId) } });
  });

  app.delete('/mirror/api/groups/:groupId/members/:userId', async (request) => {
    const { groupId, userId } = parseInput(memberParams, request.params, 'params');
    const { position } = await deps.commands.removeMember({ groupId, actorUserId: request.user.id, userId });
    await readAfterWrite(deps, position, async () => true);
    return { success: true, data: { groupId, userId } };
  });
}
