/** The error codes of the guide's "Error Handling" section; the one error type every layer throws. */
export const errorCodes = [
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'RATE_LIMITED',
  'VALIDATION_ERROR',
  'MESSAGE_TOO_OLD',
  'SERVER_ERROR',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static validation(fields: FieldError[], message = 'Invalid input'): DomainError {
    return new DomainError('VALIDATION_ERROR', message, { fields });
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}
