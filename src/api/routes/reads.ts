/** The guide's "Read Receipts" endpoints under /mirror/api/groups/:groupId/chat. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { unreadCounts, type UnreadCounts } from '../../projections/queries/reads.js';
import { requireAuth } from '../auth/authenticate.js';
import type { ApiDeps } from '../deps.js';
import { readAfterWrite } from '../read-after-write.js';
import { groupIdSchema } from '../schemas/messages.js';
import { markReadFields } from '../schemas/reads.js';
import { parseInput } from '../validation.js';
import { requireMember } from './access.js';

const groupParams = z.strictObject({ groupId: groupIdSchema });
const markReadBody = z.strictObject(markReadFields);

/**
 * Marking read is the same over REST and WebSocket: append, then wait until the counters include it, so the reader's
 * next unread count (and every socket's `chat:message_read`) already tells of it.
 */
export async function markRead(deps: ApiDeps, input: { groupId: string; userId: number; messageIds: string[] }): Promise<UnreadCounts> {
  const { position } = await deps.commands.markRead(input);
  return readAfterWrite(deps, position, () => unreadCounts(deps.read, input.groupId, input.userId));
}

export async function readRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  requireAuth(app, deps.tokens);
  const base = '/mirror/api/groups/:groupId/chat';

  // The guide gives no answer body: the reader's counts after the read are what a client shows next.
  app.post(`${base}/messages/read`, async (request) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    const { messageIds } = parseInput(markReadBody, request.body, 'body');
    return { success: true, data: await markRead(deps, { groupId, userId: request.user.id, messageIds }) };
  });

  app.get(`${base}/unread-count`, async (request) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    const counts = await unreadCounts(deps.read, groupId, request.user.id);
    // No row: not a member, and requireMember says whether FORBIDDEN or NOT_FOUND.
    if (!counts) await requireMember(deps.read, groupId, request.user.id);
    return { success: true, data: { count: counts?.unreadCount ?? 0 } };
  });
}
