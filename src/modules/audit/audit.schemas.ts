import { z } from 'zod';
import { text, uuid } from '../../platform/validation.js';

export const auditEventResponse = z.object({
  seq: z.number().int(),
  id: z.string(),
  occurredAt: z.date(),
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

const isoTime = z.iso.datetime({ offset: true, message: 'use an ISO 8601 time, like 2026-01-31T12:00:00Z' });

export const auditSearchQuery = z
  .object({
    action: z
      .string()
      .regex(/^[a-z0-9_.-]+(\.\*)?$/, "an action like 'customer.created', or a prefix like 'customer.*'")
      .optional(),
    actorId: text(100).optional(),
    actorName: text(100).optional(),
    targetType: text(50).optional(),
    targetId: text(100).optional(),
    ticket: text(100).optional(),
    requestId: text(100).optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.coerce.number().int().positive().optional().describe('nextCursor from the previous page'),
  })
  .strict();

export const auditPage = z.object({
  items: z.array(auditEventResponse),
  nextCursor: z
    .number()
    .int()
    .nullable()
    .describe('Pass as cursor for the next (older) page; null at the end'),
});

export const verifyQuery = z
  .object({
    fromSeq: z.coerce.number().int().positive().optional(),
    toSeq: z.coerce.number().int().positive().optional(),
  })
  .strict();

export const verifyResponse = z.object({
  ok: z.boolean(),
  fromSeq: z.number(),
  toSeq: z.number(),
  checked: z.number(),
  checkpoints: z.object({ total: z.number(), verified: z.number() }),
  broken: z.object({ seq: z.number(), reason: z.string() }).optional(),
});

export const exportQuery = z
  .object({
    format: z.enum(['jsonl', 'csv']).default('jsonl'),
    from: isoTime.optional(),
    to: isoTime.optional(),
  })
  .strict();

export const eventIdParams = z.object({ id: uuid });
