/** A member's notification preferences for one group. Later read by offline delivery. */
import { DomainError } from './errors.js';
import type { GroupState } from './groups.js';

export const notifyLevels = ['all', 'mentions', 'none'] as const;
export type NotifyLevel = (typeof notifyLevels)[number];

export interface Preferences {
  muted: boolean;
  notifyLevel: NotifyLevel;
}

export const defaultPreferences: Preferences = { muted: false, notifyLevel: 'all' };

export interface PreferencesUpdated {
  type: 'PreferencesUpdated';
  data: { groupId: string; userId: number; updatedAt: string } & Preferences;
}

export interface UpdatePreferences {
  type: 'UpdatePreferences';
  data: { userId: number } & Partial<Preferences>;
}

export function decidePreferences(command: UpdatePreferences, state: GroupState, now: Date): PreferencesUpdated[] {
  const { userId, ...change } = command.data;
  if (!state.members.has(userId)) throw new DomainError('FORBIDDEN', 'You are not a member of this group');
  const current = state.preferences.get(userId) ?? defaultPreferences;
  const next: Preferences = { muted: change.muted ?? current.muted, notifyLevel: change.notifyLevel ?? current.notifyLevel };
  if (next.muted === current.muted && next.notifyLevel === current.notifyLevel && state.preferences.has(userId)) return [];
  return [{ type: 'PreferencesUpdated', data: { groupId: state.groupId, userId, ...next, updatedAt: now.toISOString() } }];
}

export function evolvePreferences(state: GroupState, event: PreferencesUpdated): GroupState {
  const { userId, muted, notifyLevel } = event.data;
  state.preferences.set(userId, { muted, notifyLevel });
  return state;
}
