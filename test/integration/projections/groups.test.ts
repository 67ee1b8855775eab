import { describe, expect, it } from 'vitest';
import { groupStreamId } from '../../../src/infra/crypto/event-sealing.js';
import { getGroup, groupExists, listGroupsOf, memberRole } from '../../../src/projections/queries/groups.js';
import { append, useProjectedReadSide, seedGroup, seedUser, untilProjected, type ReadSide } from '../../support/read-side.js';

let side: ReadSide;
useProjectedReadSide((opened) => (side = opened));

describe('groups and members', () => {
  it('shows a group with its members, and each member the groups they belong to', async () => {
    const [owner, bob, carol] = await Promise.all([seedUser(side, 'owner'), seedUser(side, 'bob'), seedUser(side, 'carol')]);
    const { groupId: design } = await seedGroup(side, owner.userId, [bob.userId], 'Design');
    const { groupId: ops } = await seedGroup(side, bob.userId, [], 'Ops');
    const at = new Date().toISOString();
    const { position } = await append(side, groupStreamId(design), [
      { type: 'MemberAdded', data: { groupId: design, userId: carol.userId, username: carol.username, role: 'member', addedBy: owner.userId, addedAt: at } },
      { type: 'MemberAdded', data: { groupId: design, userId: bob.userId, username: bob.username, role: 'admin', addedBy: owner.userId, addedAt: at } },
      { type: 'MemberRemoved', data: { groupId: design, userId: carol.userId, removedBy: owner.userId, removedAt: at } },
    ]);
    await untilProjected(side, position);

    const group = await getGroup(side, design);
    expect(group).toMatchObject({ id: design, name: 'Design', ownerUserId: owner.userId });
    expect(group!.members.map(({ userId, username, role }) => ({ userId, username, role }))).toEqual([
      { userId: owner.userId, username: owner.username, role: 'owner' },
      { userId: bob.userId, username: bob.username, role: 'admin' },
    ]);
    expect(await memberRole(side, design, bob.userId)).toBe('admin');
    expect(await memberRole(side, design, carol.userId)).toBeNull();

    expect((await listGroupsOf(side, bob.userId)).map(({ id, name, role }) => ({ id, name, role })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { id: design, name: 'Design', role: 'admin' },
      { id: ops, name: 'Ops', role: 'owner' },
    ]);
    expect(await listGroupsOf(side, carol.userId)).toEqual([]);
  });

  it('knows which groups exist', async () => {
    const owner = await seedUser(side, 'owner');
    const { groupId, position } = await seedGroup(side, owner.userId);
    await untilProjected(side, position);
    expect(await groupExists(side, groupId)).toBe(true);
    expect(await groupExists(side, 'no-such-group')).toBe(false);
    expect(await getGroup(side, 'no-such-group')).toBeNull();
  });
});
