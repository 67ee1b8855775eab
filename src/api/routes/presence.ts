/** The guide's "Presence" endpoints. Presence is the user's own, the same in every group; the group says who may ask. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requireAuth } from '../auth/authenticate.js';
import type { ApiDeps } from '../deps.js';
import { groupIdSchema } from '../schemas/messages.js';
import { updatePresenceBody } from '../schemas/presence.js';
import { parseInput } from '../validation.js';

const groupParams = z.strictObject({ groupId: groupIdSchema });

export async function presenceRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  requireAuth(app, deps.tokens);
  const path = '/mirror/api/groups/:groupId/chat/presence';

  app.put(path, async (request) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    const { status } = parseInput(updatePresenceBody, request.body, 'body');
    return { success: true, data: { presence: await deps.presence.setStatus(groupId, request.user.id, status) } };
  });

  /** `userId` where the guide has the typo `odejId` (ARCHITECTURE.md, "Contract additions"). */
  app.get(path, async (request) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    return { success: true, data: { presence: await deps.presence.ofGroup(groupId, request.user.id) } };
  });
}
