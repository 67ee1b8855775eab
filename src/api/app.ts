/**
 * The HTTP and WebSocket edge. Each feature's routes are an encapsulated plugin (Fastify's own pattern), so the auth
 * hook of the chat routes does not leak onto /health or the auth endpoints.
 */
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ApiDeps } from './deps.js';
import { errorHandler, notFoundHandler } from './errors.js';
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
import { chatGateway } from './ws/gateway.js';

/** The guide's 64 KiB frame limit; content is at most 10,000 characters, so a real frame is far below it. */
const MAX_WS_PAYLOAD = 64 * 1024;
const MAX_BODY_BYTES = 256 * 1024;

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: MAX_BODY_BYTES,
    return503OnClosing: true,
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  await app.register(websocket, { options: { maxPayload: MAX_WS_PAYLOAD } });
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
