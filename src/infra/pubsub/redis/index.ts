import { connectRedis } from '../../redis/connect.js';
import type { Redis } from 'ioredis';
import type { PubSub } from '../port.js';

type Handler = (message: string) => void;

interface Channel {
  handlers: Set<Handler>;
  /** The SUBSCRIBE that opened the channel: later subscribers wait for it too before they count as subscribed. */
  ready: Promise<unknown>;
}

/**
 * Redis pub/sub. A connection in subscriber mode cannot publish, hence two. Every channel name gets `prefix`, so that
 * deployments (and parallel test files) sharing one Redis do not hear each other. After a reconnect ioredis
 * resubscribes by itself (autoResubscribe); what was published while disconnected is lost, as the port allows.
 */
export async function openRedisPubSub(url: string, options: { prefix?: string } = {}): Promise<PubSub> {
  const prefix = options.prefix ?? 'mirror:';
  // Commands issued in one tick leave in one write, in call order still: a projected batch's publishes cost one
  // syscall rather than one each.
  const publisher = await connectRedis(url, { enableAutoPipelining: true });
  const subscriber = await connectRedis(url, { autoResubscribe: true }).catch((error: unknown) => {
    publisher.disconnect();
    throw error;
  });

  const channels = new Map<string, Channel>();
  subscriber.on('message', (key: string, message: string) => {
    if (!key.startsWith(prefix)) return;
    for (const handler of channels.get(key.slice(prefix.length))?.handlers ?? []) handler(message);
  });

  return {
    async publish(channel, message) {
      // ioredis writes commands to the socket in call order, which is the order the port promises.
      await publisher.publish(prefix + channel, message);
    },

    async subscribe(channel, handler) {
      let entry = channels.get(channel);
      if (!entry) {
        entry = { handlers: new Set(), ready: subscriber.subscribe(prefix + channel) };
        channels.set(channel, entry);
      }
      const current = entry;
      const subscription: Handler = (message) => handler(message);
      current.handlers.add(subscription);

      const unsubscribe = async () => {
        if (!current.handlers.delete(subscription) || current.handlers.size > 0) return;
        if (channels.get(channel) !== current) return;
        channels.delete(channel);
        // A subscribe racing this one sends its SUBSCRIBE after this UNSUBSCRIBE on the same connection, so Redis
        // ends up subscribed.
        await subscriber.unsubscribe(prefix + channel);
      };
      try {
        await current.ready;
      } catch (error) {
        await unsubscribe().catch(() => {});
        throw error;
      }
      return unsubscribe;
    },

    async close() {
      channels.clear();
      // QUIT lets queued publishes go out first; on a connection that is down it would wait for the reconnect.
      const end = async (client: Redis) => (client.status === 'ready' ? void (await client.quit()) : client.disconnect());
      await Promise.allSettled([end(publisher), end(subscriber)]);
    },
  };
}
