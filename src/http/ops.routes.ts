import { z } from 'zod';
import type { Registry } from 'prom-client';
import type { Store } from '../platform/db/store.js';
import { migrationStatus } from '../platform/db/migrate.js';
import type { RoutePlugin } from './types.js';

const readiness = z.object({
  status: z.enum(['ready', 'not-ready']),
  checks: z.object({
    database: z.object({ ok: z.boolean(), message: z.string() }),
    migrations: z.object({ ok: z.boolean(), message: z.string() }),
  }),
});

/** Liveness and readiness (from anywhere, for load balancers) and Prometheus metrics (from the metrics networks). */
export function opsRoutes(deps: { store: Store; metrics: Registry }): RoutePlugin {
  return (app) => {
    app.get(
      '/healthz',
      {
        config: { permission: 'public', onlyFrom: 'anywhere' },
        schema: {
          tags: ['ops'],
          summary: 'Liveness: the process answers',
          security: [],
          response: { 200: z.object({ status: z.literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        config: { permission: 'public', onlyFrom: 'anywhere' },
        schema: {
          tags: ['ops'],
          summary: 'Readiness: the database answers and its migrations are current',
          security: [],
          response: { 200: readiness, 503: readiness },
        },
      },
      async (_request, reply) => {
        const checks = {
          database: { ok: false, message: '' },
          migrations: { ok: false, message: 'not checked: database unreachable' },
        };
        try {
          const status = await migrationStatus(deps.store);
          checks.database = { ok: true, message: `reachable (${deps.store.kind})` };
          checks.migrations = status.current
            ? { ok: true, message: `current (${status.applied.length} applied)` }
            : { ok: false, message: `pending: ${status.pending.join(', ')}; run gatehouse migrate` };
        } catch (error) {
          checks.database = { ok: false, message: (error as Error).message };
        }
        const ready = checks.database.ok && checks.migrations.ok;
        return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks });
      },
    );

    app.get(
      '/metrics',
      {
        config: { permission: 'public', onlyFrom: 'metrics' },
        schema: {
          tags: ['ops'],
          summary: 'Prometheus metrics (text format), only to the networks in auth.metricsNetworks',
          security: [],
        },
      },
      async (_request, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()),
    );
  };
}
