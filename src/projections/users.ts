/** Accounts as login and member lists read them. */
import { createHash } from 'node:crypto';
import { foldLogin } from '../domain/users.js';
import type { Projection } from './projector.js';

/**
 * What makes two usernames (or emails) the same account: the users decider's fold (domain/users.ts), hashed so the
 * unique key has one width however far NFKC expands a string.
 */
export const loginKey = (value: string) => createHash('sha256').update(foldLogin(value)).digest('hex');

export const usersProjection: Projection = {
  name: 'users',
  tables: { writes: ['mirror_users'] },
  async apply(trx, { event }) {
    switch (event.type) {
      case 'UserRegistered': {
        const u = event.data;
        const known = await trx.selectFrom('mirror_users').select('id').where('id', '=', u.userId).executeTakeFirst();
        if (known) return [];
        await trx
          .insertInto('mirror_users')
          .values({
            id: u.userId,
            username: u.username,
            email: u.email,
            username_key: loginKey(u.username),
            email_key: loginKey(u.email),
            password_hash: u.passwordHash,
            created_at: new Date(u.registeredAt),
          })
          .execute();
        return [];
      }
      default:
        return [];
    }
  },
};
