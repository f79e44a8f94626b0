import { z } from 'zod';
import { host, port } from '../../platform/validation.js';
import { SD_ID, SYSLOG_HOSTNAME } from './domain/forward-format.js';

export const sinkName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'a sink name is 1-63 lower-case letters, digits and dashes, like "siem"');

const pem = z
  .string()
  .max(64 * 1024, 'at most 64 KiB')
  .regex(/-----BEGIN CERTIFICATE-----/, 'a PEM bundle of CA certificates');

const hecField = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:\-/]+$/, 'letters, digits and _ . : - /');

export const httpUrl = z
  .string()
  .url('a URL like https://splunk.example:8088')
  .max(2000)
  .refine((v) => /^https?:\/\//.test(v), 'an http:// or https:// URL')
  .refine(
    (v) => !new URL(v).username && !new URL(v).password,
    'credentials go in their own field, not in the URL',
  );

export const syslogSettings = z
  .object({
    host,
    port: z.coerce.number().pipe(port),
    tls: z.boolean().default(false),
    ca: pem.optional().describe('CA certificates to trust for TLS instead of the system store'),
    hostname: z
      .string()
      .regex(SYSLOG_HOSTNAME, '1-255 printable ASCII characters')
      .optional()
      .describe('HOSTNAME field of each message; defaults to this machine'),
    sdId: z.string().regex(SD_ID, 'an SD-ID like gatehouse@32473').optional(),
  })
  .strict();

export const hecSettings = z
  .object({
    url: httpUrl,
    index: hecField.optional(),
    source: hecField.optional(),
    sourcetype: hecField.optional(),
    host: hecField.optional(),
  })
  .strict();

const token = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const createSinkBody = z.discriminatedUnion('kind', [
  z
    .object({
      name: sinkName,
      kind: z.literal('syslog'),
      settings: syslogSettings,
      enabled: z.boolean().default(true),
    })
    .strict(),
  z
    .object({
      name: sinkName,
      kind: z.literal('splunk-hec'),
      settings: hecSettings,
      token: token.describe('The HEC token (stored encrypted, never shown again)'),
      enabled: z.boolean().default(true),
    })
    .strict(),
]);
export type CreateSinkInput = z.output<typeof createSinkBody>;

export const updateSinkBody = z
  .object({
    enabled: z.boolean().optional(),
    token: token.optional(),
  })
  .strict();
export type UpdateSinkInput = z.output<typeof updateSinkBody>;

export const sinkParams = z.object({ name: sinkName }).strict();

export const sinkResponse = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['syslog', 'splunk-hec']),
  settings: z.record(z.string(), z.unknown()),
  hasToken: z.boolean(),
  enabled: z.boolean(),
  cursorSeq: z.number().describe('The last event the receiver acknowledged'),
  lagEvents: z.number().describe('Events appended after the cursor'),
  deliveredAt: z.date().nullable(),
  failures: z.number().describe('Failed attempts in a row (0 when healthy)'),
  lastError: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type SinkView = z.infer<typeof sinkResponse>;
export const sinkList = z.object({ sinks: z.array(sinkResponse) });
