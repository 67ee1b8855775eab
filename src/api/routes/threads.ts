/** The guide's "Thread Messages" endpoint. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listThread } from '../../projections/queries/threads.js';
import { requireAuth } from '../auth/authenticate.js';
import type { ApiDeps } from '../deps.js';
import { groupIdSchema, listMessagesQuery, messageIdSchema } from '../schemas/messages.js';
import { parseInput } from '../validation.js';
import { requireMember } from './access.js';

const messageParams = z.strictObject({ groupId: groupIdSchema, messageId: messageIdSchema });
/** GET /messages's query, but a thread reads oldest first: the page after `cursor` unless asked otherwise. */
const threadQuery = listMessagesQuery.extend({ direction: z.enum(['before', 'after']).default('after') });

export async function threadRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  requireAuth(app, deps.tokens);

  app.get('/mirror/api/groups/:groupId/chat/messages/:messageId/thread', async (request) => {
    const { groupId, messageId } = parseInput(messageParams, request.params, 'params');
    const query = parseInput(threadQuery, request.query, 'query');
    await requireMember(deps.read, groupId, request.user.id);
    return { success: true, data: await listThread(deps.read, { groupId, messageId, viewerId: request.user.id, ...query }) };
  });
}
