/** The guide's "Search" endpoint: members only, over the blind index (projections/queries/search.ts). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseSearchQuery } from '../../domain/search/query.js';
import { searchMessages } from '../../projections/queries/search.js';
import { requireAuth } from '../auth/authenticate.js';
import type { ApiDeps } from '../deps.js';
import { groupIdSchema } from '../schemas/messages.js';
import { searchQuery } from '../schemas/search.js';
import { parseInput } from '../validation.js';
import { requireMember } from './access.js';

const groupParams = z.strictObject({ groupId: groupIdSchema });

export async function searchRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  requireAuth(app, deps.tokens);

  app.get('/mirror/api/groups/:groupId/chat/search', async (request) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    const { q, limit, sort, cursor } = parseInput(searchQuery, request.query, 'query');
    const query = parseSearchQuery(q);
    // The search looks up what reveals nothing (keys, the newest place) while membership is checked, and reads no
    // message until it holds; a refusal is what the request answers.
    const access = requireMember(deps.read, groupId, request.user.id);
    const [, page] = await Promise.all([access, searchMessages(deps.read, { groupId, viewerId: request.user.id, query, limit, sort, cursor: cursor ?? null }, access)]);
    return { success: true, data: page };
  });
}
