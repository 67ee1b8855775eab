import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../../domain/errors.js';
import type { AuthUser, TokenService } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: AuthUser;
  }
}

/** Every route registered in `app` (an encapsulated plugin scope) needs `Authorization: Bearer <jwt>`. */
export function requireAuth(app: FastifyInstance, tokens: TokenService): void {
  app.decorateRequest('user', null as unknown as AuthUser);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match) throw new DomainError('UNAUTHORIZED', 'Send your token as Authorization: Bearer <token>');
    request.user = await tokens.verify(match[1]!);
  });
}
