/**
 * What the JobQueue must do, on each database it runs on: a job runs once however often it is sent; a failing job is
 * retried, after a backoff, as often as its queue's policy says, and then handed to the dead-letter queue; one job
 * failing does not fail the others taken with it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, JobQueue } from '../../src/infra/jobs/port.js';
import { eventually } from '../support/read-side.js';

export interface JobsHarness {
  queue: JobQueue;
  cleanup(): Promise<void>;
}

interface Seen {
  id: string;
  data: { n: number };
  attempt: number;
  lastAttempt: boolean;
  at: number;
}

export function jobQueueContract(name: string, setup: () => Promise<JobsHarness>): void {
  describe(`JobQueue contract: ${name}`, () => {
    let harness: JobsHarness;
    beforeAll(async () => {
      harness = await setup();
    });
    afterAll(async () => {
      await harness?.queue.close();
      await harness?.cleanup();
    });

    /** A fresh queue and its dead-letter queue, worked into `seen` (`fail` decides which jobs throw). */
    async function queueWith(retryLimit: number, fail: (job: Job<{ n: number }>) => boolean) {
      const queue = `contract-${randomUUID()}`;
      const deadLetter = `${queue}-dead`;
      const seen: Seen[] = [];
      const dead: Array<{ n: number }> = [];
      await harness.queue.declareQueue(queue, { retryLimit, retryDelaySeconds: 1, deadLetter });
      await harness.queue.work<{ n: number }>(queue, async (job) => {
        seen.push({ ...job, at: Date.now() });
        if (fail(job)) throw new Error(`job ${job.data.n} fails`);
      });
      await harness.queue.work<{ n: number }>(deadLetter, async (job) => void dead.push(job.data));
      return { queue, seen, dead };
    }

    it('runs a job once however often it is sent, with the data it was first sent with', async () => {
      const { queue, seen } = await queueWith(0, () => false);
      const [once, last] = [randomUUID(), randomUUID()];
      await harness.queue.send(queue, [{ id: once, data: { n: 1 } }]);
      await harness.queue.send(queue, [{ id: once, data: { n: 2 } }]);
      // Jobs are taken oldest first, so by the time the later one has run, any copy of the first has too.
      await harness.queue.send(queue, [{ id: last, data: { n: 3 } }]);
      await eventually(() => seen.some((s) => s.id === last));
      expect(seen.filter((s) => s.id === once).map((s) => s.data)).toEqual([{ n: 1 }]);
    });

    it('retries a failing job after a backoff, then hands it to the dead-letter queue; the jobs beside it are done once', async () => {
      const { queue, seen, dead } = await queueWith(1, (job) => job.data.n === 1);
      const [failing, fine] = [randomUUID(), randomUUID()];
      await harness.queue.send(queue, [
        { id: failing, data: { n: 1 } },
        { id: fine, data: { n: 2 } },
      ]);
      await eventually(() => dead.length > 0, 15_000);
      expect(dead).toEqual([{ n: 1 }]);
      const attempts = seen.filter((s) => s.id === failing);
      expect(attempts.map((s) => [s.attempt, s.lastAttempt])).toEqual([
        [1, false],
        [2, true],
      ]);
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1000);
      expect(seen.filter((s) => s.id === fine).map((s) => s.attempt)).toEqual([1]);
    });
  });
}
