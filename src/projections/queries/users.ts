import { loginKey } from '../users.js';
import { readDb, type ReadContext } from './context.js';

export interface User {
  id: number;
  username: string;
  email: string;
  createdAt: string;
}

export interface LoginCandidate {
  id: number;
  username: string;
  email: string;
  passwordHash: string;
}

/** The account a login names, by username or email, regardless of case (as registration decides uniqueness). */
export async function findUserByLogin(ctx: Pick<ReadContext, 'db'>, usernameOrEmail: string): Promise<LoginCandidate | null> {
  const key = loginKey(usernameOrEmail);
  const row = await readDb(ctx)
    .selectFrom('mirror_users')
    .select(['id', 'username', 'email', 'password_hash'])
    .where((w) => w.or([w('username_key', '=', key), w('email_key', '=', key)]))
    .executeTakeFirst();
  return row ? { id: row.id, username: row.username, email: row.email, passwordHash: row.password_hash } : null;
}

export async function getUser(ctx: Pick<ReadContext, 'db'>, id: number): Promise<User | null> {
  const row = await readDb(ctx)
    .selectFrom('mirror_users')
    .select(['id', 'username', 'email', 'created_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? { id: row.id, username: row.username, email: row.email, createdAt: row.created_at.toISOString() } : null;
}

/** Whether every one of `ids` is an account. */
export async function usersExist(ctx: Pick<ReadContext, 'db'>, ids: number[]): Promise<boolean> {
  const distinct = [...new Set(ids)];
  if (distinct.length === 0) return true;
  const row = await readDb(ctx)
    .selectFrom('mirror_users')
    .select((s) => s.fn.countAll<number | string>().as('found'))
    .where('id', 'in', distinct)
    .executeTakeFirstOrThrow();
  return Number(row.found) === distinct.length;
}
