/** Request shapes for messages, shared by REST bodies and WebSocket payloads (the guide gives both the same fields). */
import { z } from 'zod';
import { MAX_CONTENT_LENGTH, messageContentTypes } from '../../domain/messages.js';

const MAX_METADATA_BYTES = 16 * 1024;
/** `custom` itself is the first level. */
const MAX_CUSTOM_DEPTH = 8;

export const groupIdSchema = z.uuid({ message: 'must be a group id (UUID)' });
export const messageIdSchema = z.uuid({ message: 'must be a message id (UUID)' });
/** User ids are SQL `integer`s: a larger number names nobody, and must not reach a query that cannot hold it. */
export const userIdSchema = z.number().int().positive().max(2 ** 31 - 1, { message: 'must be a user id' });

/**
 * For text the read models keep as it is, not sealed: PostgreSQL cannot store NUL (the event would stop the projector),
 * and no name or id needs a control character.
 */
export const withoutControlCharacters = (text: z.ZodString) => text.refine((s) => !/\p{Cc}/u.test(s), { message: 'must not contain control characters' });

/**
 * Whether `value` nests objects and arrays at most `levels` deep. Iterative on purpose: measuring a deeper value with
 * JSON.stringify would overflow the stack.
 */
function nestsAtMost(value: unknown, levels: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, level] = next;
    if (typeof item !== 'object' || item === null) continue;
    if (level > levels) return false;
    for (const child of Object.values(item)) pending.push([child, level + 1]);
  }
  return true;
}

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
    custom: z
      .record(z.string(), z.unknown())
      // Aborting keeps the size check below from measuring what is too deep to measure.
      .refine((custom) => nestsAtMost(custom, MAX_CUSTOM_DEPTH), { message: `must nest at most ${MAX_CUSTOM_DEPTH} levels deep`, abort: true })
      .optional(),
  })
  .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= MAX_METADATA_BYTES, { message: `must be at most ${MAX_METADATA_BYTES} bytes as JSON` });

/** `system` messages are the server's own: a client may not forge one. */
const clientContentTypes = messageContentTypes.filter((t) => t !== 'system') as ['text', 'image', 'file', 'voice'];

export const sendMessageFields = {
  content: contentSchema,
  contentType: z.enum(clientContentTypes, { message: `must be one of ${clientContentTypes.join(', ')}` }).default('text'),
  parentMessageId: messageIdSchema.nullish().transform((v) => v ?? null),
  clientMessageId: withoutControlCharacters(z.string().min(1).max(100)).nullish().transform((v) => v ?? null),
  metadata: metadataSchema.nullish().transform((v) => v ?? null),
};

export const sendMessageBody = z.strictObject(sendMessageFields);
export const editMessageBody = z.strictObject({ content: contentSchema });

export const listMessagesQuery = z.strictObject({
  cursor: messageIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  direction: z.enum(['before', 'after']).default('before'),
});
