/**
 * A group's stream: its creation, its members and (through messages.ts) its messages.
 * `decide` and `evolve` here are the decider the command layer runs for every `group-<id>` stream.
 */
import { DomainError, assertNever } from './errors.js';
import { decideMessage, evolveMessage, type MessageCommand, type MessageEvent, type MessageFacts } from './messages.js';
import { decidePin, evolvePin, type PinCommand, type PinEvent } from './pins.js';
import {
  decidePreferences,
  evolvePreferences,
  type Preferences,
  type PreferencesUpdated,
  type UpdatePreferences,
} from './preferences.js';
import { decideReaction, evolveReaction, type ReactionCommand, type ReactionEvent } from './reactions.js';
import { decideRead, type MarkRead, type MessagesRead } from './reads.js';

export const memberRoles = ['owner', 'admin', 'member'] as const;
export type MemberRole = (typeof memberRoles)[number];

export const MAX_GROUP_NAME_LENGTH = 100;

export interface GroupCreated {
  type: 'GroupCreated';
  data: { groupId: string; name: string; ownerUserId: number; createdAt: string };
}
export interface MemberAdded {
  type: 'MemberAdded';
  data: { groupId: string; userId: number; username: string; role: MemberRole; addedBy: number; addedAt: string };
}
export interface MemberRemoved {
  type: 'MemberRemoved';
  data: { groupId: string; userId: number; removedBy: number; removedAt: string };
}

export type GroupEvent =
  | GroupCreated
  | MemberAdded
  | MemberRemoved
  | MessageEvent
  | ReactionEvent
  | MessagesRead
  | PinEvent
  | PreferencesUpdated;

export interface CreateGroup {
  type: 'CreateGroup';
  data: { groupId: string; name: string; ownerUserId: number; ownerUsername: string };
}
export interface AddMember {
  type: 'AddMember';
  data: { actorUserId: number; userId: number; username: string; role: Exclude<MemberRole, 'owner'> };
}
export interface RemoveMember {
  type: 'RemoveMember';
  data: { actorUserId: number; userId: number };
}

export type GroupCommand =
  | CreateGroup
  | AddMember
  | RemoveMember
  | MessageCommand
  | ReactionCommand
  | MarkRead
  | PinCommand
  | UpdatePreferences;

export interface Member {
  role: MemberRole;
  username: string;
}

export interface GroupState {
  exists: boolean;
  groupId: string;
  members: Map<number, Member>;
  messages: Map<string, MessageFacts>;
  /** `${senderUserId}:${clientMessageId}` → messageId: idempotency that never expires. */
  clientMessages: Map<string, string>;
  pinnedCount: number;
  preferences: Map<number, Preferences>;
}

export function initialGroupState(groupId: string): GroupState {
  return { exists: false, groupId, members: new Map(), messages: new Map(), clientMessages: new Map(), pinnedCount: 0, preferences: new Map() };
}

export const isModerator = (role: MemberRole | undefined) => role === 'owner' || role === 'admin';

function decideMembership(command: CreateGroup | AddMember | RemoveMember, state: GroupState, now: Date): GroupEvent[] {
  const at = now.toISOString();
  const groupId = state.groupId;
  switch (command.type) {
    case 'CreateGroup': {
      const c = command.data;
      if (state.exists) throw DomainError.validation([{ field: 'groupId', message: 'already exists' }]);
      return [
        { type: 'GroupCreated', data: { groupId, name: c.name, ownerUserId: c.ownerUserId, createdAt: at } },
        {
          type: 'MemberAdded',
          data: { groupId, userId: c.ownerUserId, username: c.ownerUsername, role: 'owner', addedBy: c.ownerUserId, addedAt: at },
        },
      ];
    }
    case 'AddMember': {
      const c = command.data;
      const actorRole = state.members.get(c.actorUserId)?.role;
      if (!actorRole) throw new DomainError('FORBIDDEN', 'You are not a member of this group');
      if (!isModerator(actorRole)) throw new DomainError('FORBIDDEN', 'Only the owner or an admin can add members');
      if (c.role === 'admin' && actorRole !== 'owner') throw new DomainError('FORBIDDEN', 'Only the owner can add admins');
      const current = state.members.get(c.userId)?.role;
      if (current === c.role) return [];
      if (current === 'owner') throw new DomainError('FORBIDDEN', "The owner's role cannot change");
      return [
        { type: 'MemberAdded', data: { groupId, userId: c.userId, username: c.username, role: c.role, addedBy: c.actorUserId, addedAt: at } },
      ];
    }
    case 'RemoveMember': {
      const c = command.data;
      const actorRole = state.members.get(c.actorUserId)?.role;
      if (!actorRole) throw new DomainError('FORBIDDEN', 'You are not a member of this group');
      const targetRole = state.members.get(c.userId)?.role;
      if (!targetRole) throw new DomainError('NOT_FOUND', 'That user is not a member of this group');
      if (targetRole === 'owner') throw new DomainError('FORBIDDEN', 'The owner cannot be removed from the group');
      const leaving = c.userId === c.actorUserId;
      const allowed = leaving || actorRole === 'owner' || (actorRole === 'admin' && targetRole === 'member');
      if (!allowed) throw new DomainError('FORBIDDEN', 'You cannot remove this member');
      return [{ type: 'MemberRemoved', data: { groupId, userId: c.userId, removedBy: c.actorUserId, removedAt: at } }];
    }
  }
}

export function decide(command: GroupCommand, state: GroupState, now: Date): GroupEvent[] {
  if (command.type !== 'CreateGroup' && !state.exists) throw new DomainError('NOT_FOUND', 'Group not found');
  switch (command.type) {
    case 'CreateGroup':
    case 'AddMember':
    case 'RemoveMember':
      return decideMembership(command, state, now);
    case 'SendMessage':
    case 'EditMessage':
    case 'DeleteMessage':
      return decideMessage(command, state, now);
    case 'AddReaction':
    case 'RemoveReaction':
      return decideReaction(command, state, now);
    case 'MarkRead':
      return decideRead(command, state, now);
    case 'PinMessage':
    case 'UnpinMessage':
      return decidePin(command, state, now);
    case 'UpdatePreferences':
      return decidePreferences(command, state, now);
    default:
      return assertNever(command);
  }
}

/** Folds one event into the state, in place (see messages.ts for why). Never throws. */
export function evolve(state: GroupState, event: GroupEvent): GroupState {
  switch (event.type) {
    case 'GroupCreated':
      state.exists = true;
      return state;
    case 'MemberAdded':
      state.members.set(event.data.userId, { role: event.data.role, username: event.data.username });
      return state;
    case 'MemberRemoved':
      state.members.delete(event.data.userId);
      return state;
    case 'MessageSent':
    case 'MessageEdited':
    case 'MessageDeleted':
      return evolveMessage(state, event);
    case 'ReactionAdded':
    case 'ReactionRemoved':
      return evolveReaction(state, event);
    case 'MessagesRead':
      return state;
    case 'MessagePinned':
    case 'MessageUnpinned':
      return evolvePin(state, event);
    case 'PreferencesUpdated':
      return evolvePreferences(state, event);
    default:
      return assertNever(event);
  }
}
