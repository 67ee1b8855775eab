/** The read models' copy of presence: what survives restarts, and how out-of-order copies from several processes settle. */
import { describe, expect, it } from 'vitest';
import type { UserPresence } from '../../../src/infra/ephemeral/port.js';
import { savePresence } from '../../../src/projections/presence.js';
import { storedPresenceOfMembers } from '../../../src/projections/queries/presence.js';
import { seedGroup, seedUser, untilProjected, useProjectedReadSide, type ReadSide } from '../../support/read-side.js';

let side: ReadSide;
useProjectedReadSide((opened) => (side = opened));

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0, ms));
const presence = (userId: number, status: UserPresence['status'], changedMs: number, seenMs = changedMs): UserPresence => ({
  userId,
  status,
  lastSeen: at(seenMs),
  changedAt: at(changedMs),
});

describe('stored presence', () => {
  it('lists every member with what was recorded, in member order, and null for a member never seen', async () => {
    const [owner, bob, carol] = await Promise.all([seedUser(side, 'owner'), seedUser(side, 'bob'), seedUser(side, 'carol')]);
    const { groupId, position } = await seedGroup(side, owner.userId, [bob.userId, carol.userId]);
    await untilProjected(side, position);
    await savePresence(side, presence(owner.userId, 'online', 100));
    await savePresence(side, presence(bob.userId, 'offline', 200, 150));

    expect(await storedPresenceOfMembers(side, groupId)).toEqual([
      { userId: owner.userId, status: 'online', lastSeen: at(100) },
      { userId: bob.userId, status: 'offline', lastSeen: at(150) },
      { userId: carol.userId, status: null, lastSeen: null },
    ]);
  });

  it('keeps the newest change whatever order the copies arrive in, also when the first ones race', async () => {
    const [owner, bob] = await Promise.all([seedUser(side, 'owner'), seedUser(side, 'bob')]);
    const { groupId, position } = await seedGroup(side, owner.userId, [bob.userId]);
    await untilProjected(side, position);
    await Promise.all([
      savePresence(side, presence(bob.userId, 'away', 300)),
      savePresence(side, presence(bob.userId, 'online', 100)),
      savePresence(side, presence(bob.userId, 'busy', 200)),
    ]);
    await savePresence(side, presence(bob.userId, 'offline', 250));
    const stored = await storedPresenceOfMembers(side, groupId);
    expect(stored.find((p) => p.userId === bob.userId)).toEqual({ userId: bob.userId, status: 'away', lastSeen: at(300) });

    await savePresence(side, presence(bob.userId, 'offline', 400, 350));
    const later = await storedPresenceOfMembers(side, groupId);
    expect(later.find((p) => p.userId === bob.userId)).toEqual({ userId: bob.userId, status: 'offline', lastSeen: at(350) });
  });
});
