/** ARCHITECTURE.md "Contract additions": register and login, both answering a token and the user. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import { EVERYONE } from '../../domain/mentions.js';
import { findUserByLogin, getUser } from '../../projections/queries/users.js';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../auth/passwords.js';
import type { ApiDeps } from '../deps.js';
import { readAfterWrite } from '../read-after-write.js';
import { countRequest } from '../rate-limits.js';
import { parseInput } from '../validation.js';

export const registerBody = z.strictObject({
  username: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]{3,32}$/, 'must be 3 to 32 letters, digits, dots, dashes or underscores')
    // `@everyone` must only ever mean everyone.
    .refine((name) => `@${name.toLowerCase()}` !== EVERYONE, { message: 'is reserved' }),
  email: z.email({ message: 'must be an email address' }).max(254),
  password: z.string().min(8, 'must be at least 8 characters').max(256),
});

const loginBody = z
  .strictObject({
    username: z.string().min(1).max(254).optional(),
    email: z.string().min(1).max(254).optional(),
    password: z.string().min(1).max(256),
  })
  .refine((b) => b.username !== undefined || b.email !== undefined, { message: 'username or email is required', path: ['username'] });

export async function authRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const session = async (user: { id: number; username: string; email: string }) => {
    const { token, expiresAt } = await deps.tokens.issue(user);
    return { token, user: { id: user.id, username: user.username, email: user.email }, expiresAt };
  };

  app.post('/mirror/api/auth/register', async (request, reply) => {
    const body = parseInput(registerBody, request.body, 'body');
    await countRequest(deps.rateLimits, reply, 'registrations', request.ip);
    const { userId, position } = await deps.commands.registerUser({
      username: body.username,
      email: body.email,
      passwordHash: await hashPassword(body.password),
    });
    const user = await readAfterWrite(deps, position, () => getUser(deps.read, userId));
    return reply.status(201).send({ success: true, data: await session(user) });
  });

  app.post('/mirror/api/auth/login', async (request, reply) => {
    const body = parseInput(loginBody, request.body, 'body');
    const login = body.username ?? body.email!;
    const user = await findUserByLogin(deps.read, login);
    // By account, so that its name and its email share one count, and by address, so that a stranger's guesses
    // cannot lock its owner out. Counted before the password is checked: a refused guess is never tested.
    const account = user ? `user ${user.id}` : `unknown ${login.toLowerCase()}`;
    await countRequest(deps.rateLimits, reply, 'logins', `${account}|${request.ip}`);
    const valid = await verifyPassword(body.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!user || !valid) throw new DomainError('UNAUTHORIZED', 'Wrong username, email or password');
    return { success: true, data: await session(user) };
  });
}
