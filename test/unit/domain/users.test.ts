import { describe, it } from 'vitest';
import { decideUsers, evolveUsers, initialUsersState, type UserEvent } from '../../../src/domain/users.js';
import { specFor } from './spec.js';

const at = new Date('2026-01-01T12:00:00.000Z');
const given = specFor({ initialState: initialUsersState, decide: decideUsers, evolve: evolveUsers });
const register = (username: string, email: string) => ({ type: 'RegisterUser' as const, data: { username, email, passwordHash: 'h' } });
const registered = (userId: number, username: string, email: string): UserEvent => ({
  type: 'UserRegistered',
  data: { userId, username, email, passwordHash: 'h', registeredAt: at.toISOString() },
});

describe('registering', () => {
  it('gives the first user id 1 and the next id 2', () => {
    given([]).when(register('alice', 'a@x.io'), at).then([registered(1, 'alice', 'a@x.io')]);
    given([registered(1, 'alice', 'a@x.io')]).when(register('bob', 'b@x.io'), at).then([registered(2, 'bob', 'b@x.io')]);
  });

  it('refuses a username or email already taken, whatever its case', () => {
    given([registered(1, 'alice', 'a@x.io')]).when(register('ALICE', 'other@x.io')).thenFails('VALIDATION_ERROR');
    given([registered(1, 'alice', 'a@x.io')]).when(register('carol', 'A@X.io')).thenFails('VALIDATION_ERROR');
  });
});
