/** The guide's search query string (`q`, `limit`, `cursor`), plus `sort`. */
import { z } from 'zod';
import { decodeSearchCursor } from '../../projections/queries/search.js';

const MAX_QUERY_LENGTH = 500;

export const searchQuery = z
  .strictObject({
    q: z.string({ message: 'is required' }).min(1, { message: 'is required' }).max(MAX_QUERY_LENGTH, { message: `must be at most ${MAX_QUERY_LENGTH} characters` }),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    sort: z.enum(['newest', 'relevance']).default('newest'),
    cursor: z
      .string()
      .transform((text, ctx) => decodeSearchCursor(text) ?? (ctx.addIssue({ code: 'custom', message: 'is not a cursor this search handed out' }), z.NEVER))
      .optional(),
  })
  .refine((input) => !input.cursor || input.cursor.sort === input.sort, { message: 'belongs to a search with another sort', path: ['cursor'] });
