/** What the Redis adapters (pub/sub, ephemeral store, rate limits) share: a client that is connected, or an error. */
import { Redis, type RedisOptions } from 'ioredis';

export async function connectRedis(url: string, options: RedisOptions = {}): Promise<Redis> {
  const redis = new Redis(url, { ...options, lazyConnect: true });
  // Connection errors are retried by ioredis and surface as rejected commands; unheard, the event would be noise.
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return redis;
}
