import type { Lease } from './port.js';

/** A database session dedicated to holding one lock; a lock of this kind lives exactly as long as its session. */
export interface LockSession {
  /** Whether this session still holds the lock; rejects when the session no longer answers. */
  holds(): Promise<boolean>;
  /** Unlocks, then ends the session. */
  release(): Promise<void>;
  /** Drops the session without a word to the server (it is presumed broken). */
  destroy(): void;
  /** Calls `listener` once when the session ends or fails by itself. */
  onBroken(listener: () => void): void;
}

export const DEFAULT_CHECK_INTERVAL_MS = 2000;

/**
 * A lease over a session that holds its lock. A dead TCP peer may go unnoticed for minutes, so besides listening for
 * the session's end the lease asks the server every `checkIntervalMs` whether the lock is still this session's,
 * and counts a check that fails or does not answer in time as the lock lost.
 */
export function sessionLease(session: LockSession, checkIntervalMs: number): Lease {
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveLost!: () => void;
  const lost = new Promise<void>((resolve) => (resolveLost = resolve));

  const end = () => {
    if (ended) return false;
    ended = true;
    clearTimeout(timer);
    resolveLost();
    return true;
  };
  const drop = () => {
    if (end()) session.destroy();
  };
  const scheduleCheck = () => {
    timer = setTimeout(() => {
      session.holds().then((held) => {
        if (!held) drop();
        else if (!ended) scheduleCheck();
      }, drop);
    }, checkIntervalMs);
    // A lease must not keep the process alive on its own.
    timer.unref();
  };

  session.onBroken(drop);
  scheduleCheck();
  return {
    lost,
    async release() {
      if (!end()) return;
      try {
        await session.release();
      } catch {
        // The session is gone, and with it the lock.
        session.destroy();
      }
    },
  };
}
