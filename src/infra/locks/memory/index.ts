import type { LeaderLock, Lease } from '../port.js';

/** In-process locks for the embedded profile, where one process owns the data directory and so every lock. */
export function createMemoryLeaderLock(): LeaderLock {
  const held = new Set<string>();
  return {
    async tryAcquire(name) {
      if (held.has(name)) return null;
      held.add(name);
      let end!: () => void;
      const lost = new Promise<void>((resolve) => (end = resolve));
      let released = false;
      const lease: Lease = {
        lost,
        async release() {
          if (released) return;
          released = true;
          held.delete(name);
          end();
        },
      };
      return lease;
    },
  };
}
