/** The guide's "Pinned Messages" endpoints. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listPinned } from '../../projections/queries/pins.js';
import { requireAuth } from '../auth/authenticate.js';
import type { ApiDeps } from '../deps.js';
import { messageAfterWrite } from '../read-after-write.js';
import { groupIdSchema, messageIdSchema } from '../schemas/messages.js';
import { parseInput } from '../validation.js';
import { requireMember } from './access.js';

const groupParams = z.strictObject({ groupId: groupIdSchema });
const messageParams = groupParams.extend({ messageId: messageIdSchema });
/** A blank note is no note; the length limit is the domain's (pins.ts). */
const pinBody = z.strictObject({
  note: z
    .string({ message: 'must be a string' })
    .nullish()
    .transform((note) => (note?.trim() ? note : null)),
});

export async function pinRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  requireAuth(app, deps.tokens);
  const base = '/mirror/api/groups/:groupId/chat';

  /** Newest pin first; each message's metadata carries pinNote, pinnedAt and pinnedBy. */
  app.get(`${base}/pinned`, async (request) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    await requireMember(deps.read, groupId, request.user.id);
    return { success: true, data: { messages: await listPinned(deps.read, groupId, request.user.id) } };
  });

  app.post(`${base}/messages/:messageId/pin`, async (request) => {
    const { groupId, messageId } = parseInput(messageParams, request.params, 'params');
    const { note } = parseInput(pinBody, request.body, 'body');
    const { position } = await deps.commands.pinMessage({ groupId, messageId, userId: request.user.id, note });
    return { success: true, data: { message: await messageAfterWrite(deps, position, groupId, messageId, request.user.id) } };
  });

  app.delete(`${base}/messages/:messageId/pin`, async (request) => {
    const { groupId, messageId } = parseInput(messageParams, request.params, 'params');
    const { position } = await deps.commands.unpinMessage({ groupId, messageId, userId: request.user.id });
    return { success: true, data: { message: await messageAfterWrite(deps, position, groupId, messageId, request.user.id) } };
  });
}
