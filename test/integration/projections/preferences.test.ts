import { describe, expect, it } from 'vitest';
import { groupStreamId } from '../../../src/infra/crypto/event-sealing.js';
import { getPreferences } from '../../../src/projections/queries/preferences.js';
import { append, seedGroup, seedUser, untilProjected, useProjectedReadSide, type ReadSide } from '../../support/read-side.js';

let side: ReadSide;
useProjectedReadSide((opened) => (side = opened));

describe('preferences', () => {
  it('answers the defaults until a member sets any, then the latest, per member and group', async () => {
    const [owner, bob] = await Promise.all([seedUser(side, 'owner'), seedUser(side, 'bob')]);
    const { groupId, position: created } = await seedGroup(side, owner.userId, [bob.userId]);
    await untilProjected(side, created);
    expect(await getPreferences(side, groupId, bob.userId)).toEqual({ muted: false, notifyLevel: 'all' });

    const updated = (muted: boolean, notifyLevel: 'all' | 'mentions' | 'none') => ({
      type: 'PreferencesUpdated' as const,
      data: { groupId, userId: bob.userId, muted, notifyLevel, updatedAt: new Date().toISOString() },
    });
    const { position } = await append(side, groupStreamId(groupId), [updated(true, 'all'), updated(true, 'mentions')]);
    await untilProjected(side, position);
    expect(await getPreferences(side, groupId, bob.userId)).toEqual({ muted: true, notifyLevel: 'mentions' });
    expect(await getPreferences(side, groupId, owner.userId)).toEqual({ muted: false, notifyLevel: 'all' });

    const { position: later } = await append(side, groupStreamId(groupId), [updated(false, 'none')]);
    await untilProjected(side, later);
    expect(await getPreferences(side, groupId, bob.userId)).toEqual({ muted: false, notifyLevel: 'none' });
  });
});
