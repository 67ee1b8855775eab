import type { PubSub } from '../port.js';

type Handler = (message: string) => void;

/** One process's bus, for the embedded profile: everyone who should hear each other shares this one instance. */
export function createMemoryPubSub(): PubSub {
  const channels = new Map<string, Set<Handler>>();

  return {
    async publish(channel, message) {
      // Snapshot now, deliver later: like Redis, a handler subscribed after the publish does not get the message, and
      // one unsubscribed in between no longer does. Microtasks run in queue order, which keeps publish order.
      for (const handler of channels.get(channel) ?? []) {
        queueMicrotask(() => {
          if (channels.get(channel)?.has(handler)) handler(message);
        });
      }
    },

    async subscribe(channel, handler) {
      let handlers = channels.get(channel);
      if (!handlers) channels.set(channel, (handlers = new Set()));
      // A Set would merge two subscriptions of the same function; wrapping keeps them independent.
      const subscription: Handler = (message) => handler(message);
      handlers.add(subscription);
      return async () => {
        handlers.delete(subscription);
        if (handlers.size === 0 && channels.get(channel) === handlers) channels.delete(channel);
      };
    },

    async close() {
      channels.clear();
    },
  };
}
