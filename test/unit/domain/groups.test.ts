import { describe, it } from 'vitest';
import type { GroupEvent } from '../../../src/domain/groups.js';
import { G, at, given, groupOf, member } from './group-fixtures.js';

const created = groupOf();
const withMember = (userId: number, role: 'admin' | 'member' = 'member') => member(userId, role);

describe('creating a group', () => {
  it('makes the creator its owner', () =>
    given([]).when({ type: 'CreateGroup', data: { groupId: G, name: 'Team', ownerUserId: 1, ownerUsername: 'u1' } }).then(created));

  it('cannot create the same group twice', () =>
    given(created).when({ type: 'CreateGroup', data: { groupId: G, name: 'Again', ownerUserId: 2, ownerUsername: 'u2' } }).thenFails('VALIDATION_ERROR'));

  it('answers NOT_FOUND for commands on a group that does not exist', () =>
    given([]).when({ type: 'AddMember', data: { actorUserId: 1, userId: 2, username: 'u2', role: 'member' } }).thenFails('NOT_FOUND'));
});

describe('adding members', () => {
  it('lets the owner add a member', () =>
    given(created).when({ type: 'AddMember', data: { actorUserId: 1, userId: 2, username: 'u2', role: 'member' } }).then([withMember(2)]));

  it('changes nothing when the member is already there with that role', () =>
    given([...created, withMember(2)]).when({ type: 'AddMember', data: { actorUserId: 1, userId: 2, username: 'u2', role: 'member' } }).then([]));

  it('lets an admin add members but not admins', () => {
    given([...created, withMember(2, 'admin')]).when({ type: 'AddMember', data: { actorUserId: 2, userId: 3, username: 'u3', role: 'member' } }).then([
      { type: 'MemberAdded', data: { groupId: G, userId: 3, username: 'u3', role: 'member', addedBy: 2, addedAt: at } },
    ]);
    given([...created, withMember(2, 'admin')]).when({ type: 'AddMember', data: { actorUserId: 2, userId: 3, username: 'u3', role: 'admin' } }).thenFails('FORBIDDEN');
  });

  it('refuses plain members and outsiders', () => {
    given([...created, withMember(2)]).when({ type: 'AddMember', data: { actorUserId: 2, userId: 3, username: 'u3', role: 'member' } }).thenFails('FORBIDDEN');
    given(created).when({ type: 'AddMember', data: { actorUserId: 9, userId: 3, username: 'u3', role: 'member' } }).thenFails('FORBIDDEN');
  });
});

describe('removing members', () => {
  const removed = (userId: number, by: number): GroupEvent => ({
    type: 'MemberRemoved',
    data: { groupId: G, userId, removedBy: by, removedAt: at },
  });

  it('lets the owner remove anyone but themself', () => {
    given([...created, withMember(2, 'admin')]).when({ type: 'RemoveMember', data: { actorUserId: 1, userId: 2 } }).then([removed(2, 1)]);
    given(created).when({ type: 'RemoveMember', data: { actorUserId: 1, userId: 1 } }).thenFails('FORBIDDEN');
  });

  it('lets a member leave, but not remove others', () => {
    given([...created, withMember(2), withMember(3)]).when({ type: 'RemoveMember', data: { actorUserId: 2, userId: 2 } }).then([removed(2, 2)]);
    given([...created, withMember(2), withMember(3)]).when({ type: 'RemoveMember', data: { actorUserId: 2, userId: 3 } }).thenFails('FORBIDDEN');
  });

  it('does not let an admin remove another admin', () =>
    given([...created, withMember(2, 'admin'), withMember(3, 'admin')]).when({ type: 'RemoveMember', data: { actorUserId: 2, userId: 3 } }).thenFails('FORBIDDEN'));

  it('answers NOT_FOUND for someone who is not a member', () =>
    given(created).when({ type: 'RemoveMember', data: { actorUserId: 1, userId: 7 } }).thenFails('NOT_FOUND'));

  it('takes away a removed member’s right to send', () =>
    given([...created, withMember(2), removed(2, 1)])
      .when({ type: 'SendMessage', data: { messageId: 'm', senderUserId: 2, content: 'hi', contentType: 'text', parentMessageId: null, clientMessageId: null, metadata: null } })
      .thenFails('FORBIDDEN'));
});
