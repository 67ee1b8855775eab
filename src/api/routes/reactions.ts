/** The guide's "Reactions" endpoints; each answers with the message as the caller now sees it. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requireAuth } from '../auth/authenticate.js';
import type { ApiDeps } from '../deps.js';
import { messageAfterWrite } from '../read-after-write.js';
import { groupIdSchema, messageIdSchema } from '../schemas/messages.js';
import { parseInput } from '../validation.js';

/** Whether it is one emoji is the domain's rule (reactions.ts); here only its type. */
const emojiSchema = z.string({ message: 'is required and must be a string' });
const messageParams = z.strictObject({ groupId: groupIdSchema, messageId: messageIdSchema });
const reactionParams = messageParams.extend({ emoji: emojiSchema });
const addReactionBody = z.strictObject({ emoji: emojiSchema });

export async function reactionRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  requireAuth(app, deps.tokens);
  const base = '/mirror/api/groups/:groupId/chat/messages/:messageId/reactions';

  app.post(base, async (request) => {
    const { groupId, messageId } = parseInput(messageParams, request.params, 'params');
    const { emoji } = parseInput(addReactionBody, request.body, 'body');
    const userId = request.user.id;
    const { position } = await deps.commands.addReaction({ groupId, messageId, userId, emoji });
    return { success: true, data: { message: await messageAfterWrite(deps, position, groupId, messageId, userId) } };
  });

  /** `:emoji` is URL-encoded by the client (`encodeURIComponent`); fastify decodes it. */
  app.delete(`${base}/:emoji`, async (request) => {
    const { groupId, messageId, emoji } = parseInput(reactionParams, request.params, 'params');
    const userId = request.user.id;
    const { position } = await deps.commands.removeReaction({ groupId, messageId, userId, emoji });
    return { success: true, data: { message: await messageAfterWrite(deps, position, groupId, messageId, userId) } };
  });
}
