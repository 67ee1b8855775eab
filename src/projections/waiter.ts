/**
 * Read-your-writes for REST and WS: after appending, a command handler waits until the read models show its events
 * (see api/read-after-write.ts). The projector announces each checkpoint on the bus; since the bus may drop a notice
 * (or this process may not be subscribed yet), the checkpoint table is also read every `pollMs` while anyone waits.
 */
import type { Kysely } from 'kysely';
import type { PubSub } from '../infra/pubsub/port.js';
import { CHECKPOINT_CHANNEL, projectedPosition } from './projector.js';

export interface ProjectionWaiter {
  /** True once every read model has applied the event at `position` (an AppendResult's); false after `timeoutMs`. */
  waitFor(position: string, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

interface Waiting {
  position: string;
  resolve(reached: boolean): void;
  timer: NodeJS.Timeout;
}

export function createProjectionWaiter(deps: { db: Kysely<any>; bus: PubSub; pollMs?: number }): ProjectionWaiter {
  const { db, bus, pollMs = 1000 } = deps;
  /** The highest checkpoint seen; positions order as strings. */
  let reached = '';
  const waiting = new Set<Waiting>();
  let pollTimer: NodeJS.Timeout | undefined;
  let polling = false;
  let closed = false;

  const settle = (w: Waiting, ok: boolean) => {
    waiting.delete(w);
    clearTimeout(w.timer);
    w.resolve(ok);
    if (waiting.size === 0) {
      clearInterval(pollTimer);
      pollTimer = undefined;
    }
  };

  const advance = (position: string) => {
    if (position <= reached) return;
    reached = position;
    for (const w of waiting) if (w.position <= reached) settle(w, true);
  };

  const poll = async () => {
    if (polling || closed) return;
    polling = true;
    try {
      advance(await projectedPosition(db));
    } catch {
      // The next poll or notice will do; a waiter that hears neither times out, which is what it is for.
    } finally {
      polling = false;
    }
  };

  // A failed subscription leaves the poll to do the work.
  const subscribed = bus.subscribe(CHECKPOINT_CHANNEL, advance).catch(() => async () => {});
  void poll();

  return {
    waitFor(position, timeoutMs) {
      if (position <= reached) return Promise.resolve(true);
      if (closed) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const w: Waiting = { position, resolve, timer: setTimeout(() => settle(w, false), timeoutMs) };
        waiting.add(w);
        pollTimer ??= setInterval(() => void poll(), pollMs);
      });
    },

    async close() {
      closed = true;
      for (const w of waiting) settle(w, false);
      await (await subscribed)();
    },
  };
}
