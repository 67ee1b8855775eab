/**
 * Fire-and-forget messages between server processes (projector → WS gateways, checkpoint notices → waiters).
 * Delivery is at most once: a subscriber that is not connected when a message is published never sees it, so
 * anything that must not be lost lives in the event store or the read models, and the bus only says "look now".
 */
export interface PubSub {
  /**
   * Messages one instance publishes on a channel reach each subscriber in the order `publish` was called, even when
   * the caller does not await one publish before the next.
   */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Once the returned promise resolves, every later message on `channel` reaches `handler`; the function it resolves
   * to unsubscribes. Handlers are called asynchronously and must not throw.
   */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
