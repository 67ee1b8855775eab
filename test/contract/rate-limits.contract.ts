/**
 * What every RateLimiter adapter must do. `open` gives an instance on the adapter's shared state (for memory, the one
 * instance; for Redis, a new connection: another server process as far as Redis can tell). Each test uses keys of
 * its own. Rules are per minute where a test must not see any refill, and short where it waits for one.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RateLimiter, RateRule } from '../../src/infra/rate-limits/port.js';

export interface RateLimiterHarness {
  open(): Promise<RateLimiter>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const perMinute = (limit: number): RateRule => ({ limit, periodMs: 60_000 });

export function rateLimiterContract(name: string, harness: RateLimiterHarness): void {
  describe(`RateLimiter contract: ${name}`, () => {
    let limiter: RateLimiter;
    let other: RateLimiter;
    const newKey = () => `key-${randomUUID()}`;

    beforeAll(async () => {
      [limiter, other] = await Promise.all([harness.open(), harness.open()]);
    });
    afterAll(async () => {
      await Promise.all([limiter?.close(), other?.close()]);
    });

    it('allows a burst of `limit` at once, counting down what remains, then refuses', async () => {
      const key = newKey();
      const rule = perMinute(5);
      const allowed = [];
      for (let i = 0; i < 5; i++) allowed.push(await limiter.take(key, rule));
      expect(allowed.map((d) => [d.allowed, d.remaining, d.retryAfterMs])).toEqual([
        [true, 4, 0],
        [true, 3, 0],
        [true, 2, 0],
        [true, 1, 0],
        [true, 0, 0],
      ]);
      // Full again one interval (60 s / 5) after the first action, the whole minute after the fifth.
      expect(allowed[0]!.resetMs).toBeGreaterThan(11_000);
      expect(allowed[0]!.resetMs).toBeLessThanOrEqual(12_000);
      expect(allowed[4]!.resetMs).toBeGreaterThan(59_000);

      const refused = await limiter.take(key, rule);
      expect(refused).toMatchObject({ allowed: false, remaining: 0 });
      // The next action is allowed once one interval has refilled.
      expect(refused.retryAfterMs).toBeGreaterThan(11_000);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(12_000);
      expect(refused.resetMs).toBeGreaterThan(59_000);
      expect(refused.resetMs).toBeLessThanOrEqual(60_000);
    });

    it('does not count refused actions', async () => {
      const key = newKey();
      const rule = perMinute(2);
      await limiter.take(key, rule);
      await limiter.take(key, rule);
      const first = await limiter.take(key, rule);
      for (let i = 0; i < 10; i++) await limiter.take(key, rule);
      const later = await limiter.take(key, rule);
      expect(later.allowed).toBe(false);
      expect(later.retryAfterMs).toBeLessThanOrEqual(first.retryAfterMs);
      expect(later.resetMs).toBeLessThanOrEqual(first.resetMs);
    });

    it('keeps keys apart', async () => {
      const [a, b] = [newKey(), newKey()];
      const rule = perMinute(1);
      expect((await limiter.take(a, rule)).allowed).toBe(true);
      expect((await limiter.take(a, rule)).allowed).toBe(false);
      expect(await limiter.take(b, rule)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('counts a key once across instances', async () => {
      const key = newKey();
      const rule = perMinute(4);
      expect((await limiter.take(key, rule)).remaining).toBe(3);
      expect((await other.take(key, rule)).remaining).toBe(2);
      expect((await limiter.take(key, rule)).remaining).toBe(1);
      expect((await other.take(key, rule)).remaining).toBe(0);
      expect((await limiter.take(key, rule)).allowed).toBe(false);
      expect((await other.take(key, rule)).allowed).toBe(false);
    });

    it('keeps the whole burst of a limit that does not divide its period', async () => {
      const key = newKey();
      const rule = { limit: 3, periodMs: 1000 };
      const decisions = [await limiter.take(key, rule), await limiter.take(key, rule), await limiter.take(key, rule)];
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true]);
      expect(decisions[2]!.remaining).toBe(0);
    });

    it('allows again once the time it named has passed', async () => {
      const key = newKey();
      const rule = { limit: 2, periodMs: 400 };
      await limiter.take(key, rule);
      await limiter.take(key, rule);
      const refused = await limiter.take(key, rule);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(200);
      // A millisecond more than asked, for the clocks' rounding.
      await sleep(Math.ceil(refused.retryAfterMs) + 1);
      expect(await other.take(key, rule)).toMatchObject({ allowed: true, remaining: 0 });
    });
  });
}
