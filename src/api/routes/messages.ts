/** The guide's "Messages" endpoints under /mirror/api/groups/:groupId/chat. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listMessages } from '../../projections/queries/messages.js';
import { requireAuth } from '../auth/authenticate.js';
import type { ApiDeps } from '../deps.js';
import { messageAfterWrite } from '../read-after-write.js';
import { editMessageBody, groupIdSchema, listMessagesQuery, messageIdSchema, sendMessageBody } from '../schemas/messages.js';
import { parseInput } from '../validation.js';
import { requireMember } from './access.js';
import { sendMessage } from './send-message.js';

const groupParams = z.strictObject({ groupId: groupIdSchema });
const messageParams = z.strictObject({ groupId: groupIdSchema, messageId: messageIdSchema });

export async function messageRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  requireAuth(app, deps.tokens);
  const base = '/mirror/api/groups/:groupId/chat/messages';

  app.get(base, async (request) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    const query = parseInput(listMessagesQuery, request.query, 'query');
    await requireMember(deps.read, groupId, request.user.id);
    return { success: true, data: await listMessages(deps.read, { groupId, viewerId: request.user.id, ...query }) };
  });

  app.post(base, { config: { rateLimit: 'httpMessages' } }, async (request, reply) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    const body = parseInput(sendMessageBody, request.body, 'body');
    const { message, duplicate } = await sendMessage(deps, request.user, { groupId, ...body });
    return reply.status(duplicate ? 200 : 201).send({ success: true, data: { message } });
  });

  app.put(`${base}/:messageId`, async (request) => {
    const { groupId, messageId } = parseInput(messageParams, request.params, 'params');
    const { content } = parseInput(editMessageBody, request.body, 'body');
    const { position } = await deps.commands.editMessage({ groupId, messageId, editorUserId: request.user.id, content });
    return { success: true, data: { message: await messageAfterWrite(deps, position, groupId, messageId, request.user.id) } };
  });

  app.delete(`${base}/:messageId`, async (request) => {
    const { groupId, messageId } = parseInput(messageParams, request.params, 'params');
    const { position } = await deps.commands.deleteMessage({ groupId, messageId, actorUserId: request.user.id });
    return { success: true, data: { message: await messageAfterWrite(deps, position, groupId, messageId, request.user.id) } };
  });
}
