/**
 * What every PubSub adapter must do. `connect` opens an instance on the adapter's shared bus (for memory, the one
 * instance; for Redis, a new connection pair, i.e. another process as far as Redis can tell).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PubSub } from '../../src/infra/pubsub/port.js';

export interface PubSubHarness {
  connect(): Promise<PubSub>;
  /** Whether two `connect`ed instances are distinct clients of one bus, as two server processes would be. */
  separateProcesses: boolean;
}

/** Collects what a subscription hears; `next(n)` waits until it has heard n messages. */
function recorder() {
  const heard: string[] = [];
  const waiting: Array<{ count: number; resolve: () => void }> = [];
  return {
    heard,
    handler(message: string) {
      heard.push(message);
      for (const w of waiting.filter((w) => heard.length >= w.count)) w.resolve();
    },
    until(count: number): Promise<string[]> {
      if (heard.length >= count) return Promise.resolve(heard);
      return new Promise((resolve) => waiting.push({ count, resolve: () => resolve(heard) }));
    },
  };
}

/** Lets in-flight deliveries land, so a test can assert that nothing (more) arrived. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

export function pubSubContract(name: string, harness: PubSubHarness): void {
  describe(`PubSub contract: ${name}`, () => {
    let bus: PubSub;
    let channelSeq = 0;
    const channel = () => `contract-${Date.now()}-${++channelSeq}`;

    beforeAll(async () => {
      bus = await harness.connect();
    });
    afterAll(async () => {
      await bus?.close();
    });

    it('delivers every message in publish order, even when publishes are not awaited one by one', async () => {
      const ch = channel();
      const r = recorder();
      await bus.subscribe(ch, r.handler);
      const messages = Array.from({ length: 200 }, (_, i) => `m${i}`);
      await Promise.all(messages.map((m) => bus.publish(ch, m)));
      expect(await r.until(messages.length)).toEqual(messages);
    });

    it('fans out to every subscriber and only on the channel published to', async () => {
      const ch = channel();
      const other = channel();
      const a = recorder();
      const b = recorder();
      const elsewhere = recorder();
      await bus.subscribe(ch, a.handler);
      await bus.subscribe(ch, b.handler);
      await bus.subscribe(other, elsewhere.handler);
      await bus.publish(ch, 'hello');
      expect(await a.until(1)).toEqual(['hello']);
      expect(await b.until(1)).toEqual(['hello']);
      await settle();
      expect(elsewhere.heard).toEqual([]);
    });

    it('stops delivering to a subscription once unsubscribed, and only to that one', async () => {
      const ch = channel();
      const stays = recorder();
      const leaves = recorder();
      await bus.subscribe(ch, stays.handler);
      const unsubscribe = await bus.subscribe(ch, leaves.handler);
      await bus.publish(ch, 'one');
      await leaves.until(1);
      await unsubscribe();
      await bus.publish(ch, 'two');
      expect(await stays.until(2)).toEqual(['one', 'two']);
      await settle();
      expect(leaves.heard).toEqual(['one']);
    });

    it('keeps a handler subscribed twice as two subscriptions', async () => {
      const ch = channel();
      const r = recorder();
      const first = await bus.subscribe(ch, r.handler);
      await bus.subscribe(ch, r.handler);
      await first();
      await bus.publish(ch, 'x');
      expect(await r.until(1)).toEqual(['x']);
      await settle();
      expect(r.heard).toEqual(['x']);
    });

    if (harness.separateProcesses) {
      it('lets two processes hear each other', async () => {
        const other = await harness.connect();
        try {
          const ch = channel();
          const here = recorder();
          const there = recorder();
          await bus.subscribe(ch, here.handler);
          await other.subscribe(ch, there.handler);
          await bus.publish(ch, 'from here');
          await other.publish(ch, 'from there');
          expect(await here.until(2)).toEqual(expect.arrayContaining(['from here', 'from there']));
          expect(await there.until(2)).toEqual(expect.arrayContaining(['from here', 'from there']));
        } finally {
          await other.close();
        }
      });
    }
  });
}
