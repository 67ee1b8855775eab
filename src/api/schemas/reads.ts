/** Read receipts' request shape, shared by `POST …/messages/read` and the `chat:mark_read` frame. */
import { z } from 'zod';
import { MAX_READ_BATCH } from '../../domain/reads.js';
import { messageIdSchema } from './messages.js';

export const markReadFields = {
  messageIds: z
    .array(messageIdSchema, { message: 'must be a list of message ids' })
    .min(1, 'must hold at least one message id')
    .max(MAX_READ_BATCH, `must hold at most ${MAX_READ_BATCH} message ids`),
};
