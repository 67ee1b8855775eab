import type { RateDecision, RateLimiter, RateRule } from '../port.js';

/** Keys fully refilled are forgotten this often, so a process that saw many users does not keep them all. */
const PRUNE_EVERY_MS = 60_000;
/** One microsecond of slack, so that a limit that does not divide its period (1000 ms / 3) keeps its whole burst. */
const SLACK_MS = 0.001;

/**
 * One process's rate limits: the embedded profile's, and every process's own while Redis is unreachable. A key
 * maps to when it is next fully refilled; one without an entry is full.
 */
export function createMemoryRateLimiter(): RateLimiter {
  const fullAt = new Map<string, number>();
  const pruner = setInterval(() => {
    const now = Date.now();
    for (const [key, at] of fullAt) if (at <= now) fullAt.delete(key);
  }, PRUNE_EVERY_MS);
  pruner.unref();

  return {
    async take(key, rule) {
      const now = Date.now();
      const { decision, next } = gcra(fullAt.get(key) ?? now, now, rule);
      if (decision.allowed) fullAt.set(key, next);
      return decision;
    },
    async close() {
      clearInterval(pruner);
    },
  };
}

/** The GCRA step of the port's comment; the Redis adapter runs the same arithmetic in Lua. */
function gcra(full: number, now: number, rule: RateRule): { decision: RateDecision; next: number } {
  const interval = rule.periodMs / rule.limit;
  const next = Math.max(full, now) + interval;
  if (next - now > rule.periodMs + SLACK_MS) {
    return { decision: { allowed: false, remaining: 0, retryAfterMs: next - now - rule.periodMs, resetMs: Math.max(full - now, 0) }, next };
  }
  const remaining = Math.floor((rule.periodMs - (next - now) + SLACK_MS) / interval);
  return { decision: { allowed: true, remaining, retryAfterMs: 0, resetMs: next - now }, next };
}
