/**
 * Per-key rate limits (GCRA, the "generic cell rate algorithm"): a rule allows `limit` actions per `periodMs`, all
 * at once as a burst or spread out, and refills evenly, one action every `periodMs / limit`. A key remembers only one
 * instant (when it is next fully refilled), so counting is one atomic step wherever the state lives: in Redis, shared
 * by every server process, or in process memory when embedded.
 */

export interface RateRule {
  limit: number;
  periodMs: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Actions left right now, this one already counted when allowed. */
  remaining: number;
  /** When refused: how long until one more action is allowed. 0 when allowed. */
  retryAfterMs: number;
  /** How long until the whole `limit` is available again. */
  resetMs: number;
}

export interface RateLimiter {
  /** Counts one action of `key` if `rule` allows it; a refused action is not counted. */
  take(key: string, rule: RateRule): Promise<RateDecision>;
  close(): Promise<void>;
}
