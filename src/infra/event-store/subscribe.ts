import type { EventStore, RecordedEvent } from './port.js';

export interface SubscribeOptions {
  /** Position to continue after (a stored checkpoint); null: from the start of the log. */
  after: string | null;
  /** Handles one batch, in log order; the subscription moves past it only once this resolves. */
  onBatch(events: RecordedEvent[]): Promise<void>;
  /** Told of every failed read or batch (and must not throw); the same batch is offered again after `retryMs`. */
  onError(error: unknown): void;
  batchSize?: number;
  /**
   * Longest wait between reads when caught up. Notifications are only a shortcut: they can be lost (a dropped
   * connection), and an event whose transaction committed late is not readable when its notification arrives.
   */
  pollMs?: number;
  retryMs?: number;
  /**
   * Pause after a batch of several events that did not fill `batchSize` — events arriving faster than batches go —
   * so that the next one gathers what is appended meanwhile: fewer, larger batches when every batch has a fixed cost.
   * A lone event (after an idle spell, or one at a time) is never held back.
   */
  gatherMs?: number;
}

export interface Subscription {
  /** Resolves once no batch is in progress and none will start. */
  stop(): Promise<void>;
}

/** Follows the global log from a checkpoint, delivering every event once, in order, until stopped. */
export function subscribeToAll(store: EventStore, options: SubscribeOptions): Subscription {
  const { onBatch, onError, batchSize = 500, pollMs = 500, retryMs = 1000, gatherMs = 0 } = options;
  let checkpoint = options.after;
  let stopped = false;
  let appended = false;
  let wake: (() => void) | undefined;
  let wakeOnAppend = false;

  const unsubscribe = store.onAppended(() => {
    appended = true;
    if (wakeOnAppend) wake?.();
  });

  const pause = (ms: number, untilAppended: boolean) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const resume = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
      const timer = setTimeout(resume, ms);
      wake = resume;
      wakeOnAppend = untilAppended;
    });

  const run = async () => {
    while (!stopped) {
      try {
        // Cleared before reading, so an append noticed during the read or the batch is not slept through.
        appended = false;
        const events = await store.readAll(checkpoint, batchSize);
        if (stopped) break;
        if (events.length > 0) {
          await onBatch(events);
          checkpoint = events[events.length - 1]!.position;
        }
        if (events.length > 1 && events.length < batchSize && gatherMs > 0) await pause(gatherMs, false);
        else if (events.length < batchSize && !appended) await pause(pollMs, true);
      } catch (error) {
        // Stopping usually precedes closing the store, which fails a read still in flight.
        if (stopped) break;
        onError(error);
        await pause(retryMs, false);
      }
    }
  };
  const running = run();

  return {
    async stop() {
      stopped = true;
      unsubscribe();
      wake?.();
      await running;
    },
  };
}
