import { z } from 'zod';
import type { Store } from '../platform/db/store.js';
import type { JobQueue } from '../platform/jobs/job-queue.js';
import { text, uuid } from '../platform/validation.js';
import { contextOf } from './context.js';
import type { RoutePlugin } from './types.js';

const jobResponse = z.object({
  id: z.string(),
  kind: z.string(),
  state: z.enum(['queued', 'running', 'succeeded', 'failed']),
  attempts: z.number(),
  maxAttempts: z.number(),
  runAt: z.date(),
  lockedBy: z.string().nullable(),
  lockedUntil: z.date().nullable(),
  lastError: z.string().nullable(),
  dedupeKey: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  finishedAt: z.date().nullable(),
});

const listQuery = z
  .object({
    state: z.enum(['queued', 'running', 'succeeded', 'failed']).optional(),
    kind: text(100).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: uuid.optional().describe('nextCursor from the previous page'),
  })
  .strict();

/**
 * Background jobs, so that failures are visible and can be retried. Payloads are not returned: they
 * may name targets and the API is read by more people than the workers.
 */
export function jobsRoutes(deps: { store: Store; jobs: JobQueue }): RoutePlugin {
  const { store, jobs } = deps;
  const view = ({ payload: _payload, ...job }: Awaited<ReturnType<JobQueue['get']>>) => job;
  return (app) => {
    app.get(
      '/api/v1/jobs',
      {
        config: { permission: 'jobs:read' },
        schema: {
          tags: ['jobs'],
          summary: 'List background jobs, newest first (state=failed shows what needs attention)',
          querystring: listQuery,
          response: { 200: z.object({ items: z.array(jobResponse), nextCursor: z.string().nullable() }) },
        },
      },
      async (request) => {
        const { cursor, ...filters } = request.query;
        const page = await jobs.list(store.db, { ...filters, ...(cursor ? { before: cursor } : {}) });
        return { items: page.jobs.map(view), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/api/v1/jobs/:id',
      {
        config: { permission: 'jobs:read' },
        schema: {
          tags: ['jobs'],
          summary: 'One job',
          params: z.object({ id: uuid }),
          response: { 200: jobResponse },
        },
      },
      async (request) => view(await jobs.get(store.db, request.params.id)),
    );

    app.post(
      '/api/v1/jobs/:id/retry',
      {
        config: { permission: 'jobs:write' },
        schema: {
          tags: ['jobs'],
          summary: 'Put a failed job back in the queue',
          params: z.object({ id: uuid }),
          response: { 200: jobResponse },
        },
      },
      async (request) =>
        view(
          await store.db.transaction().execute((tx) => jobs.retry(tx, request.params.id, contextOf(request))),
        ),
    );
  };
}
