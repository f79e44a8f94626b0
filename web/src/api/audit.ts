import { z } from 'zod';
import { api, withQuery } from './client';

/**
 * The audit log as the back-office reads it: search (newest first, numeric cursor), one event, the
 * chain's verification and the export's address (a download the browser makes itself).
 */

export const auditEvent = z.object({
  seq: z.number(),
  id: z.string(),
  occurredAt: z.string(),
  actorType: z.enum(['operator', 'token', 'system']),
  actorId: z.string().nullable(),
  actorName: z.string(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ticket: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  requestId: z.string().nullable(),
  sourceIp: z.string().nullable(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEvent = z.infer<typeof auditEvent>;

export const auditPage = z.object({ items: z.array(auditEvent), nextCursor: z.number().nullable() });

export const verification = z.object({
  ok: z.boolean(),
  fromSeq: z.number(),
  toSeq: z.number(),
  checked: z.number(),
  checkpoints: z.object({ total: z.number(), verified: z.number() }),
  broken: z.object({ seq: z.number(), reason: z.string() }).optional(),
});
export type Verification = z.infer<typeof verification>;

/** The search's filters as the API names them; times are ISO 8601. */
export interface AuditFilters {
  action?: string | undefined;
  actorName?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  ticket?: string | undefined;
  requestId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}
export const filterKeys = [
  'action',
  'actorName',
  'targetType',
  'targetId',
  'ticket',
  'requestId',
  'from',
  'to',
] as const satisfies readonly (keyof AuditFilters)[];

export const AUDIT_PAGE_SIZE = 50;

export const auditApi = {
  search: (filters: AuditFilters, cursor: number | undefined, signal?: AbortSignal) =>
    api.get(
      withQuery('/api/v1/audit/events', { ...filters, cursor, limit: AUDIT_PAGE_SIZE }),
      auditPage,
      signal,
    ),
  event: (id: string, signal?: AbortSignal) =>
    api.get(`/api/v1/audit/events/${encodeURIComponent(id)}`, auditEvent, signal),
  verify: (signal?: AbortSignal) => api.get('/api/v1/audit/verify', verification, signal),
  /** The export's address: every event in the time range, in sequence order, with its hashes. */
  exportUrl: (format: 'jsonl' | 'csv', range: Pick<AuditFilters, 'from' | 'to'>) =>
    withQuery('/api/v1/audit/export', { format, from: range.from, to: range.to }),
};
