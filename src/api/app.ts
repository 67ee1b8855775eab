/**
 * The HTTP and WebSocket edge. Each feature's routes are an encapsulated plugin (Fastify's own pattern), so the auth
 * hook of the chat routes does not leak onto /health or the auth endpoints.
 */
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ApiDeps } from './deps.js';
import { clientErrorHandler, errorHandler, notFoundHandler } from './errors.js';
import { httpRateLimits } from './rate-limits.js';
import { authRoutes } from './routes/auth.js';
import { groupRoutes } from './routes/groups.js';
import { healthRoutes } from './routes/health.js';
import { messageRoutes } from './routes/messages.js';
import { pinRoutes } from './routes/pins.js';
import { preferenceRoutes } from './routes/preferences.js';
import { presenceRoutes } from './routes/presence.js';
import { reactionRoutes } from './routes/reactions.js';
import { threadRoutes } from './routes/threads.js';
import { readRoutes } from './routes/reads.js';
import { searchRoutes } from './routes/search.js';
import { typingRoutes } from './routes/typing.js';
import { chatGateway, selectProtocol } from './ws/gateway.js';

/** The guide's 64 KiB frame limit; content is at most 10,000 characters, so a real frame is far below it. */
const MAX_WS_PAYLOAD = 64 * 1024;
const MAX_BODY_BYTES = 256 * 1024;

/**
 * One log line a request, when it is answered, naming the request as Fastify's "incoming request" line would: Fastify
 * writes both lines, and each is a write to the log.
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const entry = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...entry, err: error }, 'request errored');
    else reply.log.info(entry, 'request completed');
  }
}

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new OneLinePerRequest(),
    bodyLimit: MAX_BODY_BYTES,
    return503OnClosing: true,
    // Behind a listed proxy the client is who X-Forwarded-For says; anyone else could write that header themselves.
    trustProxy: deps.trustedProxies.length > 0 ? deps.trustedProxies : false,
    // Errors met before a route runs (a bad URL, HTTP the parser refuses) answer in the envelope too.
    frameworkErrors: errorHandler,
    clientErrorHandler,
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  httpRateLimits(app, deps.rateLimits);
  await app.register(websocket, {
    // A frame past maxPayload closes its socket with 1009; the token may come as the subprotocol ['bearer', token].
    options: { maxPayload: MAX_WS_PAYLOAD, handleProtocols: selectProtocol },
    // The chat gateway drains its sockets and closes them (1001) in its own preClose hook; the default would close
    // them at once, without a code.
    preClose: (done) => done(),
  });
  await app.register(healthRoutes, deps);
  await app.register(authRoutes, deps);
  await app.register(groupRoutes, deps);
  await app.register(messageRoutes, deps);
  await app.register(reactionRoutes, deps);
  await app.register(pinRoutes, deps);
  await app.register(threadRoutes, deps);
  await app.register(readRoutes, deps);
  await app.register(searchRoutes, deps);
  await app.register(typingRoutes, deps);
  await app.register(presenceRoutes, deps);
  await app.register(preferenceRoutes, deps);
  await app.register(chatGateway, deps);
  return app;
}
