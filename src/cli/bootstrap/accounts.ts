/** Accounts as the bootstrap commands create and name them. */
import type { z } from 'zod';
import { hashPassword } from '../../api/auth/passwords.js';
import type { registerBody } from '../../api/routes/auth.js';
import type { Commands } from '../../commands/index.js';
import { DomainError } from '../../domain/errors.js';
import { USERS_STREAM, foldLogin, type UserEvent } from '../../domain/users.js';
import { openEvent } from '../../infra/crypto/event-sealing.js';
import { findUserByLogin, getUser } from '../../projections/queries/users.js';
import type { Backends } from '../backends.js';
import type { UserRef } from './input.js';

export type NewAccount = z.output<typeof registerBody>;

export interface Account {
  id: number;
  username: string;
  email: string;
}

/** Registers a user as `POST /auth/register` does once the request passed its rules: the password stored only hashed. */
export async function createAccount(commands: Commands, { username, email, password }: NewAccount): Promise<Account> {
  try {
    const { userId } = await commands.registerUser({ username, email, passwordHash: await hashPassword(password) });
    return { id: userId, username, email };
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== 'VALIDATION_ERROR') throw error;
    const fields = (error.details?.fields ?? []) as Array<{ field: string; message: string }>;
    throw new Error(`${error.message}: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`);
  }
}

/**
 * The account `ref` names, or null. The read models answer first; they lag the users stream until a server projects
 * it (in the embedded profile no server runs beside this command), so a user registered since is found in the stream.
 */
export async function lookupUser({ readDb, eventStore, crypto }: Backends, ref: UserRef): Promise<Account | null> {
  const projected = 'id' in ref ? await getUser({ db: readDb }, ref.id) : await findUserByLogin({ db: readDb }, ref.login);
  if (projected) return { id: projected.id, username: projected.username, email: projected.email };
  const matches =
    'id' in ref
      ? (user: Account) => user.id === ref.id
      : (user: Account) => foldLogin(user.username) === foldLogin(ref.login) || foldLogin(user.email) === foldLogin(ref.login);
  for (const recorded of await eventStore.readStream(USERS_STREAM)) {
    const { data } = await openEvent<UserEvent>(crypto, recorded);
    const user = { id: data.userId, username: data.username, email: data.email };
    if (matches(user)) return user;
  }
  return null;
}

export async function requireUser(backends: Backends, ref: UserRef): Promise<Account> {
  const user = await lookupUser(backends, ref);
  if (!user) throw new Error(`No user ${'id' in ref ? `with id ${ref.id}` : ref.login}`);
  return user;
}
