/**
 * JWTs with the guide's payload ({ id, username, email, sessionId, iat, exp }). The algorithm is pinned to HS256 on
 * both sides, and `exp`, issuer and audience are required, so `alg: none`, algorithm confusion and foreign tokens fail.
 * A token must also name an account as it is (its id and username), and not be issued later than now.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import { recentCache } from '../../infra/recent-cache.js';

const ALGORITHM = 'HS256';

export interface AuthUser {
  id: number;
  username: string;
  email: string;
  sessionId: string;
  /** Seconds since the epoch. */
  exp: number;
}

const payloadSchema = z.object({
  id: z.number().int().positive(),
  username: z.string(),
  email: z.string(),
  sessionId: z.string(),
  iat: z.number(),
  exp: z.number(),
});

export interface TokenOptions {
  secret: Uint8Array;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** The username of the account with this id, or null when there is none. */
  usernameOf(id: number): Promise<string | null>;
}

/** How far ahead of this server's clock another's may run: a token issued later than that was issued by no server. */
const CLOCK_SKEW_SECONDS = 60;
const INVALID = 'Invalid or expired token';

/**
 * Tokens verified lately, until they expire. A client sends the same token with every request, and checking its
 * signature is a WebCrypto HMAC that leaves the main thread and comes back (about half a millisecond); a token's
 * claims cannot change, so once checked it holds until its `exp`, as it would checked again. Bounded.
 */
const VERIFIED_TOKENS_PER_GENERATION = 5_000;

const secondsNow = () => Math.floor(Date.now() / 1000);

export function createTokenService(options: TokenOptions) {
  const verified = recentCache<AuthUser>(VERIFIED_TOKENS_PER_GENERATION);
  return {
    async issue(user: { id: number; username: string; email: string }, now = new Date()) {
      const iat = Math.floor(now.getTime() / 1000);
      const exp = iat + options.ttlSeconds;
      const token = await new SignJWT({ id: user.id, username: user.username, email: user.email, sessionId: randomUUID() })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(options.secret);
      return { token, expiresAt: new Date(exp * 1000).toISOString() };
    },

    async verify(token: string): Promise<AuthUser> {
      const known = verified.get(token);
      if (known) {
        // Expired as jose would find it: at `exp` itself.
        if (known.exp > secondsNow()) return known;
        verified.delete(token);
      }
      let user: AuthUser;
      try {
        const { payload } = await jwtVerify(token, options.secret, {
          algorithms: [ALGORITHM],
          issuer: options.issuer,
          audience: options.audience,
          requiredClaims: ['exp', 'iat'],
        });
        const { id, username, email, sessionId, iat, exp } = payloadSchema.parse(payload);
        if (iat > secondsNow() + CLOCK_SKEW_SECONDS) throw new Error('issued in the future');
        user = Object.freeze({ id, username, email, sessionId, exp });
      } catch {
        throw new DomainError('UNAUTHORIZED', INVALID);
      }
      // Ids are handed out again when the databases are reset under the same secret: a token names its account whole.
      if ((await options.usernameOf(user.id)) !== user.username) throw new DomainError('UNAUTHORIZED', INVALID);
      verified.set(token, user);
      return user;
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
