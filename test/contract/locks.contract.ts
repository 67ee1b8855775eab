/**
 * What every LeaderLock adapter must do. `open` gives another client of the same lock space, as another server
 * process would have; `killHolder` (where the backend has sessions to kill) ends the holder's session from outside.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaderLock } from '../../src/infra/locks/port.js';

export interface LockHarness {
  open(): LeaderLock;
  /** How often the adapter checks a held lease, to know how long to watch one. */
  checkIntervalMs: number;
  killHolder?(name: string): Promise<void>;
  cleanup(): Promise<void>;
}

export function leaderLockContract(name: string, setup: () => Promise<LockHarness>, options: { killable: boolean }): void {
  describe(`LeaderLock contract: ${name}`, () => {
    let harness: LockHarness;
    let here: LeaderLock;
    let there: LeaderLock;
    let nameSeq = 0;
    const lockName = () => `contract-${++nameSeq}`;

    beforeAll(async () => {
      harness = await setup();
      here = harness.open();
      there = harness.open();
    });
    afterAll(async () => {
      await harness?.cleanup();
    });

    it('has one holder at a time', async () => {
      const name = lockName();
      const lease = await here.tryAcquire(name);
      expect(lease).not.toBeNull();
      expect(await there.tryAcquire(name)).toBeNull();
      expect(await here.tryAcquire(name)).toBeNull();
      await lease!.release();
    });

    it('keeps the lease while its holder lives', async () => {
      const lease = (await here.tryAcquire(lockName()))!;
      const outcome = await Promise.race([
        lease.lost.then(() => 'lost'),
        new Promise((resolve) => setTimeout(resolve, harness.checkIntervalMs * 3, 'held')),
      ]);
      expect(outcome).toBe('held');
      await lease.release();
    });

    it('gives the lock to exactly one of many racing for it', async () => {
      const name = lockName();
      const leases = await Promise.all([here, there, here, there].map((lock) => lock.tryAcquire(name)));
      const held = leases.filter((lease) => lease !== null);
      expect(held).toHaveLength(1);
      await held[0]!.release();
    });

    it('keeps different names apart', async () => {
      const a = await here.tryAcquire(lockName());
      const b = await there.tryAcquire(lockName());
      expect(a).not.toBeNull();
      expect(b).not.toBeNull();
      await Promise.all([a!.release(), b!.release()]);
    });

    it('lets another acquire once released, and ends the released lease', async () => {
      const name = lockName();
      const lease = (await here.tryAcquire(name))!;
      await lease.release();
      await lease.lost;
      const next = await there.tryAcquire(name);
      expect(next).not.toBeNull();
      await next!.release();
      await lease.release();
    });

    if (options.killable) {
      it("loses the lease when the holder's session dies, and lets another take over", async () => {
        const name = lockName();
        const lease = (await here.tryAcquire(name))!;
        await harness.killHolder!(name);
        await lease.lost;
        const next = await there.tryAcquire(name);
        expect(next).not.toBeNull();
        await next!.release();
        await lease.release();
      });
    }
  });
}
