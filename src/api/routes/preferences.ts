/** A member's notification preferences for a group (issue 3: at least muted and notifyLevel). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notifyLevels } from '../../domain/preferences.js';
import { getPreferences } from '../../projections/queries/preferences.js';
import { requireAuth } from '../auth/authenticate.js';
import type { ApiDeps } from '../deps.js';
import { readAfterWrite } from '../read-after-write.js';
import { groupIdSchema } from '../schemas/messages.js';
import { parseInput } from '../validation.js';
import { requireMember } from './access.js';

const groupParams = z.strictObject({ groupId: groupIdSchema });
/** A partial update: the fields left out keep their value. */
const updatePreferencesBody = z
  .strictObject({
    muted: z.boolean({ message: 'must be true or false' }).optional(),
    notifyLevel: z.enum(notifyLevels, { message: `must be one of ${notifyLevels.join(', ')}` }).optional(),
  })
  .refine((b) => b.muted !== undefined || b.notifyLevel !== undefined, { message: 'must set muted, notifyLevel or both' });

export async function preferenceRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  requireAuth(app, deps.tokens);
  const path = '/mirror/api/groups/:groupId/chat/preferences';

  app.get(path, async (request) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    await requireMember(deps.read, groupId, request.user.id);
    return { success: true, data: { preferences: await getPreferences(deps.read, groupId, request.user.id) } };
  });

  app.put(path, async (request) => {
    const { groupId } = parseInput(groupParams, request.params, 'params');
    const change = parseInput(updatePreferencesBody, request.body, 'body');
    const { position } = await deps.commands.updatePreferences({ groupId, userId: request.user.id, ...change });
    const preferences = await readAfterWrite(deps, position, () => getPreferences(deps.read, groupId, request.user.id));
    return { success: true, data: { preferences } };
  });
}
