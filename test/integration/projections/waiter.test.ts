import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryPubSub } from '../../../src/infra/pubsub/memory/index.js';
import { createProjectionWaiter, type ProjectionWaiter } from '../../../src/projections/waiter.js';
import { getUser } from '../../../src/projections/queries/users.js';
import { openReadSide, projectorOn, seedUser, untilProjected, type ReadSide } from '../../support/read-side.js';

let side: ReadSide;
let waiter: ProjectionWaiter;
beforeAll(async () => {
  side = await openReadSide();
  waiter = createProjectionWaiter({ db: side.db, bus: await side.openBus() });
});
afterAll(async () => {
  await waiter?.close();
  await side?.close();
});

describe('projection waiter', () => {
  it('resolves once the read models show the write, woken by the projector', async () => {
    const { projector } = projectorOn(side);
    try {
      const user = await seedUser(side);
      expect(await waiter.waitFor(user.position, 5000)).toBe(true);
      expect(await getUser(side, user.userId)).not.toBeNull();
    } finally {
      await projector.stop();
    }
  });

  it('answers false when nothing projects in time, and true once something does', async () => {
    const user = await seedUser(side);
    const started = Date.now();
    expect(await waiter.waitFor(user.position, 300)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    const pending = waiter.waitFor(user.position, 5000);
    const { projector } = projectorOn(side);
    try {
      expect(await pending).toBe(true);
    } finally {
      await projector.stop();
    }
  });

  it('falls back to reading the checkpoint when no notice reaches it', async () => {
    // A bus the projector does not publish on: only the poll can tell.
    const deaf = createProjectionWaiter({ db: side.db, bus: createMemoryPubSub(), pollMs: 50 });
    const { projector } = projectorOn(side);
    try {
      const user = await seedUser(side);
      expect(await deaf.waitFor(user.position, 5000)).toBe(true);
      // Already reached: no waiting at all.
      expect(await deaf.waitFor(user.position, 0)).toBe(true);
    } finally {
      await projector.stop();
      await deaf.close();
    }
  });

  it('knows at once about what was projected before it started', async () => {
    const { projector } = projectorOn(side);
    const user = await seedUser(side);
    await untilProjected(side, user.position);
    await projector.stop();
    const late = createProjectionWaiter({ db: side.db, bus: await side.openBus(), pollMs: 60_000 });
    try {
      expect(await late.waitFor(user.position, 2000)).toBe(true);
    } finally {
      await late.close();
    }
  });
});
