import { connectRedis } from '../../redis/connect.js';
import type { RateDecision, RateLimiter } from '../port.js';

/**
 * The GCRA step of the port's comment, atomic in Redis, on the Redis server's clock (which every process shares).
 * KEYS: the key, holding when it is next fully refilled (ms); ARGV: limit, period (ms). Fractions travel as strings,
 * since Redis truncates a script's numbers to integers. The 0.001 ms of slack keeps the whole burst of a limit that
 * does not divide its period (1000 ms / 3).
 */
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local limit, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local interval = period / limit
local full = tonumber(redis.call('GET', KEYS[1]) or '0')
local next = math.max(full, now) + interval
if next - now > period + 0.001 then
  return {0, 0, tostring(next - now - period), tostring(math.max(full - now, 0))}
end
redis.call('SET', KEYS[1], string.format('%.3f', next), 'PX', math.ceil(next - now))
return {1, math.floor((period - (next - now) + 0.001) / interval), '0', tostring(next - now)}`;

/** Past this a command counts as failed: a limit check must not hold a request up for long. */
const COMMAND_TIMEOUT_MS = 1000;

export interface RedisRateLimiterOptions {
  /** Prefix of every key, as for the other Redis adapters. */
  prefix?: string;
  /**
   * Answers while Redis does not (each process then limits on its own, so N processes allow up to N times the
   * limit) rather than refusing everyone or letting everything through. Closed with this limiter.
   */
  fallback: RateLimiter;
  logger: { warn: LogFn; info: LogFn };
}

type LogFn = (fields: Record<string, unknown>, message: string) => void;

/** Rate limits in Redis, shared by every server process; keys are `<prefix>ratelimit:<key>`. */
export async function openRedisRateLimiter(url: string, options: RedisRateLimiterOptions): Promise<RateLimiter> {
  const prefix = `${options.prefix ?? 'mirror:'}ratelimit:`;
  const { fallback, logger } = options;
  // No offline queue and no retries: while Redis is away a check fails at once and the fallback answers, instead of
  // waiting for a reconnect. ioredis keeps reconnecting in the background.
  const redis = await connectRedis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: COMMAND_TIMEOUT_MS });
  redis.defineCommand('gcra', { numberOfKeys: 1, lua: GCRA });
  const gcra = (redis as unknown as { gcra(key: string, limit: number, periodMs: number): Promise<[number, number, string, string]> }).gcra.bind(redis);
  let down = false;

  return {
    async take(key, rule): Promise<RateDecision> {
      let reply: [number, number, string, string];
      try {
        reply = await gcra(prefix + key, rule.limit, rule.periodMs);
      } catch (error) {
        if (!down) logger.warn({ err: error }, 'rate limits: Redis does not answer; each process limits on its own until it does');
        down = true;
        return fallback.take(key, rule);
      }
      if (down) logger.info({}, 'rate limits: Redis answers again; limits are shared by every process again');
      down = false;
      const [allowed, remaining, retryAfterMs, resetMs] = reply;
      return { allowed: allowed === 1, remaining, retryAfterMs: Number(retryAfterMs), resetMs: Number(resetMs) };
    },

    async close() {
      await fallback.close();
      if (redis.status === 'ready') await redis.quit();
      else redis.disconnect();
    },
  };
}
