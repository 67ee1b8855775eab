import { describe, it } from 'vitest';
import type { GroupEvent } from '../../../src/domain/groups.js';
import { G, at, given, groupOf } from './group-fixtures.js';

const created = groupOf(2);
const updated = (userId: number, muted: boolean, notifyLevel: 'all' | 'mentions' | 'none'): GroupEvent => ({
  type: 'PreferencesUpdated',
  data: { groupId: G, userId, muted, notifyLevel, updatedAt: at },
});

describe('updating preferences', () => {
  it('starts from the defaults (not muted, every message) and records the whole result', () =>
    given(created).when({ type: 'UpdatePreferences', data: { userId: 2, muted: true } }).then([updated(2, true, 'all')]));

  it('keeps the fields a partial update leaves out', () =>
    given([...created, updated(2, true, 'all')])
      .when({ type: 'UpdatePreferences', data: { userId: 2, notifyLevel: 'mentions' } })
      .then([updated(2, true, 'mentions')]));

  it('keeps each member’s preferences apart', () =>
    given([...created, updated(2, true, 'none')])
      .when({ type: 'UpdatePreferences', data: { userId: 1, notifyLevel: 'mentions' } })
      .then([updated(1, false, 'mentions')]));

  it('changes nothing when the preferences already are those', () =>
    given([...created, updated(2, true, 'mentions')])
      .when({ type: 'UpdatePreferences', data: { userId: 2, muted: true, notifyLevel: 'mentions' } })
      .then([]));

  it('records a first explicit choice even when it equals the defaults', () =>
    given(created).when({ type: 'UpdatePreferences', data: { userId: 2, muted: false, notifyLevel: 'all' } }).then([updated(2, false, 'all')]));

  it('is for members only', () => {
    given(created).when({ type: 'UpdatePreferences', data: { userId: 3, muted: true } }).thenFails('FORBIDDEN');
    given([...created, { type: 'MemberRemoved', data: { groupId: G, userId: 2, removedBy: 1, removedAt: at } }])
      .when({ type: 'UpdatePreferences', data: { userId: 2, muted: true } })
      .thenFails('FORBIDDEN');
  });

  it('answers NOT_FOUND in a group that does not exist', () =>
    given([]).when({ type: 'UpdatePreferences', data: { userId: 2, muted: true } }).thenFails('NOT_FOUND'));

  it('remembers a member’s preferences when they are added back', () =>
    given([
      ...created,
      updated(2, true, 'none'),
      { type: 'MemberRemoved', data: { groupId: G, userId: 2, removedBy: 1, removedAt: at } },
      { type: 'MemberAdded', data: { groupId: G, userId: 2, username: 'u2', role: 'member', addedBy: 1, addedAt: at } },
    ])
      .when({ type: 'UpdatePreferences', data: { userId: 2, muted: true } })
      .then([]));
});
