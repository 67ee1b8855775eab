/** Request shapes for messages, shared by REST bodies and WebSocket payloads (the guide gives both the same fields). */
import { z } from 'zod';
import { MAX_CONTENT_LENGTH, messageContentTypes } from '../../domain/messages.js';

const MAX_METADATA_BYTES = 16 * 1024;

export const groupIdSchema = z.uuid({ message: 'must be a group id (UUID)' });
export const messageIdSchema = z.uuid({ message: 'must be a message id (UUID)' });

/** Length in characters as a person counts them (code points), not UTF-16 units. */
export const contentSchema = z
  .string({ message: 'is required and must be a string' })
  .refine((s) => s.trim().length > 0, { message: 'must not be empty' })
  .refine((s) => [...s].length <= MAX_CONTENT_LENGTH, { message: `must be at most ${MAX_CONTENT_LENGTH} characters` });

const span = { startIndex: z.number().int().min(0), endIndex: z.number().int().min(0) };

const metadataSchema = z
  .strictObject({
    mentions: z
      // @everyone names nobody in particular: its userId may be 0, as the server's own derived mentions have it.
      .array(z.strictObject({ userId: z.number().int().min(0), username: z.string().min(1).max(64), type: z.enum(['user', 'everyone', 'role']), ...span }))
      .max(100)
      .optional(),
    links: z
      .array(
        z.strictObject({
          url: z.url().max(2048),
          title: z.string().max(300).optional(),
          description: z.string().max(1000).optional(),
          image: z.url().max(2048).optional(),
          ...span,
        }),
      )
      .max(20)
      .optional(),
    formatting: z
      .strictObject({
        bold: z.array(z.tuple([z.number().int().min(0), z.number().int().min(0)])).max(200).optional(),
        italic: z.array(z.tuple([z.number().int().min(0), z.number().int().min(0)])).max(200).optional(),
        code: z.array(z.tuple([z.number().int().min(0), z.number().int().min(0)])).max(200).optional(),
        links: z.array(z.tuple([z.number().int().min(0), z.number().int().min(0), z.url().max(2048)])).max(200).optional(),
      })
      .optional(),
    custom: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= MAX_METADATA_BYTES, { message: `must be at most ${MAX_METADATA_BYTES} bytes as JSON` });

/** `system` messages are the server's own: a client may not forge one. */
const clientContentTypes = messageContentTypes.filter((t) => t !== 'system') as ['text', 'image', 'file', 'voice'];

export const sendMessageFields = {
  content: contentSchema,
  contentType: z.enum(clientContentTypes, { message: `must be one of ${clientContentTypes.join(', ')}` }).default('text'),
  parentMessageId: messageIdSchema.nullish().transform((v) => v ?? null),
  clientMessageId: z.string().min(1).max(100).nullish().transform((v) => v ?? null),
  metadata: metadataSchema.nullish().transform((v) => v ?? null),
};

export const sendMessageBody = z.strictObject(sendMessageFields);
export const editMessageBody = z.strictObject({ content: contentSchema });

export const listMessagesQuery = z.strictObject({
  cursor: messageIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  direction: z.enum(['before', 'after']).default('before'),
});
