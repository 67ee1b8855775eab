import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError } from '../domain/errors.js';
import { getMessage } from '../projections/queries/messages.js';
import type { ApiDeps } from './deps.js';

/**
 * Answers a write with what the next GET would show: waits (bounded) until the projector has passed the write's
 * position, then reads. A write that appended nothing (an idempotent retry) has no position of its own, so the read
 * is retried until the original shows up.
 */
export async function readAfterWrite<T>(
  deps: Pick<ApiDeps, 'waiter' | 'projectionWaitMs' | 'logger'>,
  position: string | null,
  read: () => Promise<T | null>,
): Promise<T> {
  const deadline = Date.now() + deps.projectionWaitMs;
  if (position && !(await deps.waiter.waitFor(position, deps.projectionWaitMs))) {
    deps.logger.warn({ position }, 'projection did not catch up within the wait bound');
  }
  for (;;) {
    const value = await read();
    if (value !== null) return value;
    if (Date.now() >= deadline) {
      throw new DomainError('SERVER_ERROR', 'Saved, but not visible yet; retry with the same clientMessageId to get it');
    }
    await sleep(50);
  }
}

/** A message as `viewerId` sees it once the read models have passed `position`: what a write answers with. */
export function messageAfterWrite(
  deps: Pick<ApiDeps, 'waiter' | 'projectionWaitMs' | 'logger' | 'read'>,
  position: string | null,
  groupId: string,
  messageId: string,
  viewerId: number,
) {
  return readAfterWrite(deps, position, () => getMessage(deps.read, groupId, messageId, viewerId));
}
