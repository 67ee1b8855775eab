/** Presence request shapes, shared by PUT /presence and the chat:presence_update frame. */
import { z } from 'zod';
import { presenceStatuses } from '../../infra/ephemeral/port.js';

export const presenceFields = {
  status: z.enum(presenceStatuses, { message: `must be one of ${presenceStatuses.join(', ')}` }),
};

export const updatePresenceBody = z.strictObject(presenceFields);
