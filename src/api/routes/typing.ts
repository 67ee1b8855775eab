/** The guide's "Typing Indicators" endpoints; the chat:typing_start/stop frames do the same (ws/gateway.ts). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requireAuth } from '../auth/authenticate.js';
import type { ApiDeps } from '../deps.js';
import { groupIdSchema } from '../schemas/messages.js';
import { parseInput } from '../validation.js';

const groupParams = z.strictObject({ groupId: groupIdSchema });

export async function typingRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  requireAuth(app, deps.tokens);
  const base = '/mirror/api/groups/:groupId/chat/typing';

  // The guide gives these no body: whatever is sent is ignored.
  app.post(`${base}/start`, { config: { rateLimit: 'typingStarts' } }, async (request) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    await deps.typing.start(groupId, request.user);
    return { success: true, data: { groupId, isTyping: true } };
  });

  app.post(`${base}/stop`, async (request) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    await deps.typing.stop(groupId, request.user);
    return { success: true, data: { groupId, isTyping: false } };
  });
}
