/**
 * A named lock held by at most one server process at a time, such as the projector's: whoever holds it writes the
 * read models and publishes broadcasts, and when its process dies the lock frees itself for another to take.
 *
 * A lease can end without its holder noticing at once (a network partition, a killed session), so holding a lease
 * is no proof of still being the only writer; the projector's checkpoint fence is what makes a late write harmless.
 */
export interface Lease {
  /** Resolves once the lock is no longer held through this lease: released, or lost with its connection. */
  readonly lost: Promise<void>;
  release(): Promise<void>;
}

export interface LeaderLock {
  /** The lease if the lock was free; null at once if another holder has it. */
  tryAcquire(name: string): Promise<Lease | null>;
}
