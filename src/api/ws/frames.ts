/** Client → server frames of the guide's "WebSocket Protocol" section, one schema each. */
import { z } from 'zod';
import { groupIdSchema, messageIdSchema, sendMessageFields } from '../schemas/messages.js';
import { presenceFields } from '../schemas/presence.js';
import { markReadFields } from '../schemas/reads.js';

const requestId = z.string().min(1).max(100);
const groupOnly = z.strictObject({ groupId: groupIdSchema });

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ping'), payload: z.unknown().optional(), requestId: requestId.optional() }),
  // `lastMessageId`: the newest message the client has; what it missed after it is replayed (ws/resume.ts).
  z.strictObject({
    type: z.literal('chat:join_group'),
    payload: z.strictObject({ groupId: groupIdSchema, lastMessageId: messageIdSchema.optional() }),
    requestId: requestId.optional(),
  }),
  z.strictObject({ type: z.literal('chat:leave_group'), payload: groupOnly, requestId: requestId.optional() }),
  z.strictObject({
    type: z.literal('chat:send_message'),
    payload: z.strictObject({ groupId: groupIdSchema, ...sendMessageFields }),
    requestId,
  }),
  // No answer on success (the guide defines none); the reader's sockets in the group get chat:message_read.
  z.strictObject({
    type: z.literal('chat:mark_read'),
    payload: z.strictObject({ groupId: groupIdSchema, ...markReadFields }),
    requestId: requestId.optional(),
  }),
  // Typing and presence answer nothing on success either: members hear chat:typing or chat:presence.
  z.strictObject({ type: z.literal('chat:typing_start'), payload: groupOnly, requestId: requestId.optional() }),
  z.strictObject({ type: z.literal('chat:typing_stop'), payload: groupOnly, requestId: requestId.optional() }),
  z.strictObject({
    type: z.literal('chat:presence_update'),
    payload: z.strictObject({ groupId: groupIdSchema, ...presenceFields }),
    requestId: requestId.optional(),
  }),
]);

export type ClientFrame = z.output<typeof clientFrameSchema>;

export const knownFrameTypes = clientFrameSchema.options.map((o) => o.shape.type.value);

/** The requestId of a frame that failed validation, if it carried a usable one, so the error can name it. */
export function requestIdOf(raw: unknown): string | undefined {
  const id = (raw as { requestId?: unknown } | null)?.requestId;
  return typeof id === 'string' && id.length > 0 && id.length <= 100 ? id : undefined;
}
