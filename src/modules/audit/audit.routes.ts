import { Readable } from 'node:stream';
import { z } from 'zod';
import type { RoutePlugin } from '../../http/types.js';
import type { Store } from '../../platform/db/store.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import {
  auditEventResponse,
  auditPage,
  auditSearchQuery,
  eventIdParams,
  exportQuery,
  verifyQuery,
  verifyResponse,
} from './audit.schemas.js';
import type { AuditLog } from './audit.service.js';
import { formatEvent, formatHeader, type ExportFormat } from './domain/export-format.js';

function timeWindow(query: { from?: string | undefined; to?: string | undefined }) {
  const window = {
    from: query.from ? new Date(query.from) : undefined,
    to: query.to ? new Date(query.to) : undefined,
  };
  if (window.from && window.to && window.from > window.to)
    throw new ValidationError('from must not be after to');
  return window;
}

/** Streams the export without holding the log in memory. */
async function* exportLines(
  audit: AuditLog,
  store: Store,
  format: ExportFormat,
  window: { from?: Date; to?: Date },
) {
  const header = formatHeader(format);
  if (header) yield header;
  for await (const event of audit.stream(store.db, window)) yield formatEvent(event, format);
}

export function auditRoutes(deps: { store: Store; audit: AuditLog }): RoutePlugin {
  const { store, audit } = deps;
  return (app) => {
    app.get(
      '/api/v1/audit/events',
      {
        config: { permission: 'audit:read' },
        schema: {
          tags: ['audit'],
          summary: 'Search audit events, newest first',
          querystring: auditSearchQuery,
          response: { 200: auditPage },
        },
      },
      async (request) => {
        const { limit, cursor, from, to, ...filters } = request.query;
        const page = await audit.search(
          store.db,
          { ...filters, ...timeWindow({ from, to }) },
          { limit, ...(cursor ? { cursor } : {}) },
        );
        return { items: page.events, nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/api/v1/audit/events/:id',
      {
        config: { permission: 'audit:read' },
        schema: {
          tags: ['audit'],
          summary: 'One audit event',
          params: eventIdParams,
          response: { 200: auditEventResponse },
        },
      },
      async (request) => {
        const event = await audit.get(store.db, request.params.id);
        if (!event) throw new NotFoundError('Audit event', request.params.id);
        return event;
      },
    );

    app.get(
      '/api/v1/audit/verify',
      {
        config: { permission: 'audit:read' },
        schema: {
          tags: ['audit'],
          summary: 'Verify the hash chain and signed checkpoints, naming the first broken event',
          querystring: verifyQuery,
          response: { 200: verifyResponse },
        },
      },
      async (request) => audit.verify(store.db, request.query),
    );

    app.get(
      '/api/v1/audit/public-key',
      {
        config: { permission: 'audit:read' },
        schema: {
          tags: ['audit'],
          summary: 'The Ed25519 public key that signs checkpoints, for offline verification',
          response: { 200: z.object({ keyId: z.string(), pem: z.string() }) },
        },
      },
      async () => audit.publicKey(),
    );

    app.get(
      '/api/v1/audit/export',
      {
        config: { permission: 'audit:export' },
        schema: {
          tags: ['audit'],
          summary: 'Export audit events in sequence order as JSON lines or CSV, with their hashes',
          querystring: exportQuery,
        },
      },
      async (request, reply) => {
        const { format } = request.query;
        const window = timeWindow(request.query);
        return reply
          .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
          .header('content-disposition', `attachment; filename="gatehouse-audit.${format}"`)
          .send(Readable.from(exportLines(audit, store, format, window)));
      },
    );
  };
}
