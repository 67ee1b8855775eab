import type { z } from 'zod';
import { DomainError } from '../domain/errors.js';

/** Parses a request part with its zod schema; a failure lists every offending field as VALIDATION_ERROR. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, part: 'body' | 'query' | 'params' | 'payload'): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : part,
    message: issue.message,
  }));
  throw DomainError.validation(fields, `Invalid ${part}: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`);
}
