/**
 * The users stream: one stream for every account, so that numeric user ids and unique usernames and emails are
 * decided against one consistent state (optimistic concurrency settles races between server processes).
 */
import { DomainError } from './errors.js';

export const USERS_STREAM = 'users';

export interface UserRegistered {
  type: 'UserRegistered';
  data: { userId: number; username: string; email: string; passwordHash: string; registeredAt: string };
}
export type UserEvent = UserRegistered;

export interface RegisterUser {
  type: 'RegisterUser';
  data: { username: string; email: string; passwordHash: string };
}
export type UserCommand = RegisterUser;

export interface UsersState {
  lastUserId: number;
  usernames: Set<string>;
  emails: Set<string>;
}

export const initialUsersState = (): UsersState => ({ lastUserId: 0, usernames: new Set(), emails: new Set() });

/** Usernames and emails are unique regardless of case: "Alice" and "alice" are one person to readers. */
export const foldLogin = (value: string) => value.normalize('NFKC').toLowerCase();

export function decideUsers(command: UserCommand, state: UsersState, now: Date): UserEvent[] {
  const c = command.data;
  const taken = [];
  if (state.usernames.has(foldLogin(c.username))) taken.push({ field: 'username', message: 'is already taken' });
  if (state.emails.has(foldLogin(c.email))) taken.push({ field: 'email', message: 'is already registered' });
  if (taken.length > 0) throw DomainError.validation(taken, 'Username or email already in use');
  return [
    {
      type: 'UserRegistered',
      data: {
        userId: state.lastUserId + 1,
        username: c.username,
        email: c.email,
        passwordHash: c.passwordHash,
        registeredAt: now.toISOString(),
      },
    },
  ];
}

export function evolveUsers(state: UsersState, event: UserEvent): UsersState {
  state.lastUserId = event.data.userId;
  state.usernames.add(foldLogin(event.data.username));
  state.emails.add(foldLogin(event.data.email));
  return state;
}
