/** ARCHITECTURE.md: /health (the process is up), /ready (every backend answers), /metrics (Prometheus). */
import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { ApiDeps } from '../deps.js';

export async function healthRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  app.get('/health', async () => ({ success: true, data: { status: 'ok' } }));

  app.get('/ready', async (_request, reply) => {
    const checks = await deps.readiness();
    const ready = Object.values(checks).every(Boolean);
    return reply.status(ready ? 200 : 503).send({ success: ready, data: { status: ready ? 'ready' : 'not ready', checks } });
  });

  app.get('/metrics', async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
