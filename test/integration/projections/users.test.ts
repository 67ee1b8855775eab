import { beforeAll, describe, expect, it } from 'vitest';
import { findUserByLogin, getUser, usersExist } from '../../../src/projections/queries/users.js';
import { append, useProjectedReadSide, untilProjected, type ReadSide } from '../../support/read-side.js';

let side: ReadSide;
useProjectedReadSide((opened) => (side = opened));

describe('users', () => {
  const registeredAt = '2024-05-01T10:00:00.000Z';
  beforeAll(async () => {
    const { position } = await append(side, 'users', [
      { type: 'UserRegistered', data: { userId: 1, username: 'Alice', email: 'Alice@Example.test', passwordHash: 'h1', registeredAt } },
      { type: 'UserRegistered', data: { userId: 2, username: 'bob', email: 'bob@example.test', passwordHash: 'h2', registeredAt } },
    ]);
    await untilProjected(side, position);
  });

  it('finds an account by username or email, whatever their case', async () => {
    const alice = { id: 1, username: 'Alice', email: 'Alice@Example.test', passwordHash: 'h1' };
    expect(await findUserByLogin(side, 'alice')).toEqual(alice);
    expect(await findUserByLogin(side, 'ALICE')).toEqual(alice);
    expect(await findUserByLogin(side, 'alice@example.TEST')).toEqual(alice);
    expect(await findUserByLogin(side, 'bob')).toMatchObject({ id: 2 });
    expect(await findUserByLogin(side, 'carol')).toBeNull();
  });

  it('reads one account, without its password hash', async () => {
    expect(await getUser(side, 1)).toEqual({ id: 1, username: 'Alice', email: 'Alice@Example.test', createdAt: registeredAt });
    expect(await getUser(side, 99)).toBeNull();
  });

  it('tells whether every id given is an account', async () => {
    expect(await usersExist(side, [1, 2, 1])).toBe(true);
    expect(await usersExist(side, [1, 99])).toBe(false);
    expect(await usersExist(side, [])).toBe(true);
  });
});
