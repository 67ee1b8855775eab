/**
 * The guide's rate limits, per user and shared by every server process (the limiter's state lives in Redis when
 * there is one). Over HTTP a request counts against the limit its route names (`config.rateLimit`: sends and typing
 * starts), and any other write by a signed-in user against `httpWrites`; reads count against none. Over WebSocket
 * every frame counts against `wsFrames`, and a typing start also against `typingStarts`. Sign-in attempts count
 * against `logins`, per account and client address, so that a password cannot be guessed at the server's speed, and
 * sign-ups against `registrations`, per client address.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DomainError } from '../domain/errors.js';
import type { RateDecision, RateLimiter, RateRule } from '../infra/rate-limits/port.js';

export type LimitName = 'httpMessages' | 'httpWrites' | 'wsFrames' | 'typingStarts' | 'logins' | 'registrations';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The limit a request to this route counts against, when not the general one for writes. */
    rateLimit?: LimitName;
  }
}

const refusals: Record<LimitName, string> = {
  httpMessages: 'Too many messages. Please wait before sending more.',
  httpWrites: 'Too many requests. Please wait before trying again.',
  wsFrames: 'Too many frames. Please slow down.',
  typingStarts: 'Too many typing signals. Please wait before sending more.',
  logins: 'Too many sign-in attempts. Please wait before trying again.',
  registrations: 'Too many new accounts from this address. Please wait before trying again.',
};

export interface LimitDecision extends RateDecision {
  limit: number;
}

export function createRateLimits(limiter: RateLimiter, rules: Record<LimitName, RateRule>) {
  return {
    /** Counts one action of the subject (a user's id, or what `logins` and `registrations` count by) against the limit, unless it is refused. */
    async take(name: LimitName, subject: number | string): Promise<LimitDecision> {
      const rule = rules[name];
      return { ...(await limiter.take(`${name}:${subject}`, rule)), limit: rule.limit };
    },

    /** The guide's RATE_LIMITED, `details.retryAfter` in whole seconds. */
    refusal(name: LimitName, decision: LimitDecision): DomainError {
      return new DomainError('RATE_LIMITED', refusals[name], { retryAfter: wholeSeconds(decision.retryAfterMs) });
    },
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;

/** Rounded up, and at least 1: waiting the seconds said is always enough. */
const wholeSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

const reads = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Counts each limited request before its handler runs (after authentication), and says where the user stands in the
 * `X-RateLimit-Limit`, `-Remaining` and `-Reset` (seconds until the whole limit is back) headers; a refusal also
 * carries `Retry-After`, in seconds, as `details.retryAfter` does.
 */
export function httpRateLimits(app: FastifyInstance, limits: RateLimits): void {
  app.addHook('preHandler', async (request, reply) => {
    // Routes without authentication leave `user` undefined.
    if (!request.user || reads.has(request.method)) return;
    await countRequest(limits, reply, request.routeOptions.config.rateLimit ?? 'httpWrites', request.user.id);
  });
}

/** Counts a request against a limit, saying so in the headers above; throws the refusal when over it. */
export async function countRequest(limits: RateLimits, reply: FastifyReply, name: LimitName, subject: number | string): Promise<void> {
  const decision = await limits.take(name, subject);
  void reply.headers({
    'x-ratelimit-limit': decision.limit,
    'x-ratelimit-remaining': decision.remaining,
    'x-ratelimit-reset': Math.ceil(decision.resetMs / 1000),
  });
  if (decision.allowed) return;
  void reply.header('retry-after', wholeSeconds(decision.retryAfterMs));
  throw limits.refusal(name, decision);
}
