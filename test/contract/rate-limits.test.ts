import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from '../../src/infra/rate-limits/memory/index.js';
import { openRedisRateLimiter } from '../../src/infra/rate-limits/redis/index.js';
import { REDIS_URL, dropRedisPrefix } from '../support/backends.js';
import { tcpProxy } from '../support/tcp-proxy.js';
import { rateLimiterContract } from './rate-limits.contract.js';

const silent = { warn: () => {}, info: () => {} };

const memoryLimiter = createMemoryRateLimiter();
rateLimiterContract('memory', { open: async () => memoryLimiter });

// A prefix of its own keeps this run apart from other test files using the same Redis.
const prefix = `test-${randomUUID()}:`;
rateLimiterContract('redis', { open: () => openRedisRateLimiter(REDIS_URL, { prefix, fallback: createMemoryRateLimiter(), logger: silent }) });
afterAll(() => dropRedisPrefix(prefix));

describe('the Redis rate limiter while Redis is away', () => {
  it('answers from the per-process fallback, warns once, and shares limits again once Redis is back', async () => {
    // Redis going away, as one process sees it.
    const proxy = await tcpProxy(REDIS_URL);
    const warnings: string[] = [];
    const infos: string[] = [];
    const logger = { warn: (_: unknown, message: string) => warnings.push(message), info: (_: unknown, message: string) => infos.push(message) };
    const limiter = await openRedisRateLimiter(proxy.url, { prefix, fallback: createMemoryRateLimiter(), logger });
    const elsewhere = await openRedisRateLimiter(REDIS_URL, { prefix, fallback: createMemoryRateLimiter(), logger: silent });
    try {
      const rule = { limit: 2, periodMs: 60_000 };
      const key = `key-${randomUUID()}`;
      await limiter.take(key, rule);
      await limiter.take(key, rule);
      expect((await elsewhere.take(key, rule)).allowed).toBe(false);

      await proxy.cut();
      // The fallback knows nothing of the two actions Redis counted: it starts afresh, and limits too.
      expect(await limiter.take(key, rule)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await limiter.take(key, rule)).toMatchObject({ allowed: true, remaining: 0 });
      expect((await limiter.take(key, rule)).allowed).toBe(false);
      expect(warnings).toEqual(['rate limits: Redis does not answer; each process limits on its own until it does']);
      expect(infos).toEqual([]);

      await proxy.restore();
      const deadline = Date.now() + 15_000;
      while (infos.length === 0) {
        if (Date.now() > deadline) throw new Error('the limiter never went back to Redis');
        await new Promise((resolve) => setTimeout(resolve, 50));
        await limiter.take(`probe-${randomUUID()}`, rule);
      }
      expect(infos).toEqual(['rate limits: Redis answers again; limits are shared by every process again']);
      const shared = `key-${randomUUID()}`;
      const one = { limit: 1, periodMs: 60_000 };
      expect((await elsewhere.take(shared, one)).allowed).toBe(true);
      expect((await limiter.take(shared, one)).allowed).toBe(false);
      expect(warnings).toHaveLength(1);
    } finally {
      await Promise.all([limiter.close(), elsewhere.close()]);
      await proxy.cut();
    }
  }, 30_000);
});
