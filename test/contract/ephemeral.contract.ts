/**
 * What every EphemeralStore adapter must do. `open` gives an instance on the adapter's shared state (for memory, the
 * one instance; for Redis, a new connection, i.e. another server process as far as Redis can tell). Times are short
 * on purpose; each test uses users of its own, since the state is shared by the whole file.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EphemeralStore, UserPresence } from '../../src/infra/ephemeral/port.js';

export interface EphemeralHarness {
  open(): Promise<EphemeralStore>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LONG = 60_000;

export function ephemeralContract(name: string, harness: EphemeralHarness): void {
  describe(`EphemeralStore contract: ${name}`, () => {
    let store: EphemeralStore;
    let other: EphemeralStore;
    let nextUser = randomInt(1_000_000, 1_000_000_000);
    const newUser = () => ++nextUser;
    const conn = (userId: number) => ({ userId, connectionId: randomUUID() });
    /** Every change any sweep in this file answered, by whichever instance. */
    const swept: UserPresence[] = [];
    const sweptFor = (userId: number) => swept.filter((p) => p.userId === userId);
    const sweepBoth = async () => {
      const [here, there] = await Promise.all([store.sweep(100), other.sweep(100)]);
      swept.push(...here, ...there);
    };
    const sweepUntilGone = async (userId: number) => {
      const deadline = Date.now() + 5000;
      while (sweptFor(userId).length === 0) {
        if (Date.now() > deadline) throw new Error(`user ${userId} was never swept offline`);
        await sleep(20);
        await sweepBoth();
      }
      return sweptFor(userId)[0]!;
    };

    beforeAll(async () => {
      [store, other] = await Promise.all([harness.open(), harness.open()]);
    });
    afterAll(async () => {
      await Promise.all([store?.close(), other?.close()]);
    });

    it('answers a ping while open', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    describe('flags', () => {
      it('swap answers the value it replaced, across instances, and null once it expired', async () => {
        const key = `flag-${randomUUID()}`;
        expect(await store.swap(key, 'a', LONG)).toBeNull();
        expect(await other.swap(key, 'b', 50)).toBe('a');
        await sleep(100);
        expect(await store.swap(key, 'c', LONG)).toBeNull();
      });

      it('remove deletes only the value it expects, or any value when it expects none', async () => {
        const key = `flag-${randomUUID()}`;
        await store.swap(key, 'mine', LONG);
        expect(await other.remove(key, 'not mine')).toBe(false);
        expect(await other.remove(key, 'mine')).toBe(true);
        expect(await store.remove(key)).toBe(false);
        await store.swap(key, 'again', LONG);
        expect(await other.remove(key)).toBe(true);
        expect(await store.swap(key, 'x', LONG)).toBeNull();
      });

      it('remove of an expired value deletes nothing', async () => {
        const key = `flag-${randomUUID()}`;
        await store.swap(key, 'brief', 30);
        await sleep(80);
        expect(await store.remove(key, 'brief')).toBe(false);
      });
    });

    describe('presence', () => {
      it('brings a user online with their first connection only, whichever instance holds the others', async () => {
        const userId = newUser();
        const before = Date.now();
        const [arrived] = await store.keepAlive([conn(userId)], LONG);
        expect(arrived).toMatchObject({ userId, status: 'online' });
        expect(arrived!.lastSeen.getTime()).toBeGreaterThanOrEqual(before - 1000);
        expect(await other.keepAlive([conn(userId)], LONG)).toEqual([]);
        // A connection is a sighting: lastSeen moves on, the status stays.
        const known = (await other.presenceOf([userId])).get(userId)!;
        expect(known).toMatchObject({ status: 'online', changedAt: arrived!.changedAt });
        expect(known.lastSeen.getTime()).toBeGreaterThanOrEqual(arrived!.lastSeen.getTime());
      });

      it('answers the arrivals of a batch, keeping connections that are already known alive', async () => {
        const [a, b] = [newUser(), newUser()];
        const first = conn(a);
        await store.keepAlive([first], LONG);
        const arrived = await store.keepAlive([first, conn(b)], LONG);
        expect(arrived.map((p) => p.userId)).toEqual([b]);
      });

      it('keeps a user present for the grace after their last connection closes', async () => {
        const userId = newUser();
        const first = conn(userId);
        await store.keepAlive([first], LONG);
        await other.disconnect(first, LONG);
        await sweepBoth();
        expect(await store.keepAlive([conn(userId)], LONG)).toEqual([]);
        expect(sweptFor(userId)).toEqual([]);
        expect((await store.presenceOf([userId])).get(userId)?.status).toBe('online');
      });

      it('sweeps a user offline once the grace has passed, exactly once across instances, keeping when they were last seen', async () => {
        const userId = newUser();
        const [a, b] = [conn(userId), conn(userId)];
        const [online] = await store.keepAlive([a, b], LONG);
        await store.disconnect(a, 20);
        const beforeLastClose = Date.now();
        await other.disconnect(b, 50);
        const gone = await sweepUntilGone(userId);
        expect(gone).toMatchObject({ userId, status: 'offline' });
        expect(gone.lastSeen.getTime()).toBeGreaterThanOrEqual(beforeLastClose - 1000);
        expect(gone.changedAt.getTime()).toBeGreaterThan(online!.changedAt.getTime());
        await sweepBoth();
        expect(sweptFor(userId)).toHaveLength(1);
        expect((await other.presenceOf([userId])).get(userId)).toEqual(gone);
      });

      it('lets the connections of a process that stopped refreshing them lapse', async () => {
        const userId = newUser();
        await store.keepAlive([conn(userId)], 50);
        expect(await sweepUntilGone(userId)).toMatchObject({ userId, status: 'offline' });
      });

      it('keeps a refreshed connection alive past its first lifetime', async () => {
        const userId = newUser();
        const c = conn(userId);
        await store.keepAlive([c], 30);
        expect(await other.keepAlive([c], LONG)).toEqual([]);
        await sleep(80);
        await sweepBoth();
        expect(sweptFor(userId)).toEqual([]);
      });

      it('brings a user who went offline back online with their next connection', async () => {
        const userId = newUser();
        await store.keepAlive([conn(userId)], 30);
        await sweepUntilGone(userId);
        const [back] = await other.keepAlive([conn(userId)], LONG);
        expect(back).toMatchObject({ userId, status: 'online' });
      });
    });

    describe('chosen status', () => {
      it('changes the status, says whether it changed, and orders changes strictly', async () => {
        const userId = newUser();
        const [online] = await store.keepAlive([conn(userId)], LONG);
        const away = await other.setStatus(userId, 'away', LONG);
        expect(away).toMatchObject({ changed: true, presence: { userId, status: 'away' } });
        const again = await store.setStatus(userId, 'away', LONG);
        expect(again.changed).toBe(false);
        const busy = await store.setStatus(userId, 'busy', LONG);
        const times = [online!, away.presence, busy.presence].map((p) => p.changedAt.getTime());
        expect(times[1]).toBeGreaterThan(times[0]!);
        expect(times[2]).toBeGreaterThan(times[1]!);
        expect((await other.presenceOf([userId])).get(userId)).toEqual(busy.presence);
      });

      it('keeps a user who set a status without a connection present for the lease', async () => {
        const userId = newUser();
        const set = await store.setStatus(userId, 'away', 50);
        expect(set).toMatchObject({ changed: true, presence: { status: 'away' } });
        expect(await sweepUntilGone(userId)).toMatchObject({ userId, status: 'offline' });
      });

      it('adds no lease while the user is connected', async () => {
        const userId = newUser();
        const c = conn(userId);
        await store.keepAlive([c], LONG);
        await store.setStatus(userId, 'busy', LONG);
        await store.disconnect(c, 20);
        expect(await sweepUntilGone(userId)).toMatchObject({ status: 'offline' });
      });

      it('does not sweep a user who chose offline, and brings them online when they arrive after leaving', async () => {
        const userId = newUser();
        const c = conn(userId);
        await store.keepAlive([c], LONG);
        expect((await store.setStatus(userId, 'offline', LONG)).changed).toBe(true);
        await store.disconnect(c, 20);
        await sleep(60);
        await sweepBoth();
        await sweepBoth();
        expect(sweptFor(userId)).toEqual([]);
        const [back] = await other.keepAlive([conn(userId)], LONG);
        expect(back).toMatchObject({ status: 'online' });
      });

      it('counts a user it never knew as offline', async () => {
        const userId = newUser();
        expect(await store.presenceOf([userId])).toEqual(new Map());
        const set = await store.setStatus(userId, 'offline', LONG);
        expect(set).toMatchObject({ changed: false, presence: { userId, status: 'offline' } });
        expect((await other.presenceOf([userId])).get(userId)?.status).toBe('offline');
      });
    });
  });
}
