import { z } from 'zod';
import { host, port, uuid } from '../../platform/validation.js';
import { notices } from './domain/notices.js';

export const channelName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,62}$/,
    'a channel name is 1-63 lower-case letters, digits and dashes, like "ops-chat"',
  );

const noticeList = z
  .array(z.enum(notices))
  .min(1)
  .max(notices.length)
  .default([...notices])
  .describe(`Which notices the channel carries: ${notices.join(', ')}`);

const httpsOrLoopbackUrl = z
  .string()
  .url()
  .max(2000)
  .refine((v) => {
    const u = new URL(v);
    return (
      u.protocol === 'https:' || (u.protocol === 'http:' && /^(127\.|localhost$|\[::1\]$)/.test(u.hostname))
    );
  }, 'an https:// URL (http:// only to a loopback address)')
  .refine((v) => !new URL(v).username && !new URL(v).password, 'no credentials in the URL');

const secretText = z
  .string()
  .min(1)
  .max(1000)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
const emailAddress = z.string().email().max(254);

export const smtpSettings = z
  .object({
    host,
    port: z.coerce.number().pipe(port),
    secure: z.boolean().default(false).describe('Implicit TLS (usually port 465)'),
    requireTls: z.boolean().default(true).describe('Refuse to send unless STARTTLS upgrades the connection'),
    user: z.string().min(1).max(254).optional(),
    from: emailAddress,
    ca: z
      .string()
      .max(65536)
      .regex(/-----BEGIN CERTIFICATE-----/)
      .optional(),
  })
  .strict();

export const createChannelBody = z.discriminatedUnion('kind', [
  z
    .object({
      name: channelName,
      kind: z.literal('email'),
      settings: smtpSettings,
      password: secretText.optional().describe('SMTP password (stored encrypted)'),
      notices: noticeList,
    })
    .strict(),
  z
    .object({
      name: channelName,
      kind: z.enum(['slack', 'teams']),
      settings: z.object({}).strict().default({}),
      url: httpsOrLoopbackUrl.describe('The incoming-webhook URL (a secret: stored encrypted)'),
      notices: noticeList,
    })
    .strict(),
  z
    .object({
      name: channelName,
      kind: z.literal('webhook'),
      settings: z.object({ url: httpsOrLoopbackUrl }).strict(),
      secret: secretText
        .min(16, 'at least 16 characters')
        .describe('HMAC-SHA256 signing secret (stored encrypted)'),
      notices: noticeList,
    })
    .strict(),
]);
export type CreateChannelInput = z.output<typeof createChannelBody>;

export const channelParams = z.object({ name: channelName }).strict();

export const channelResponse = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['email', 'slack', 'teams', 'webhook']),
  settings: z.record(z.string(), z.unknown()),
  hasSecret: z.boolean(),
  notices: z.array(z.string()),
  enabled: z.boolean(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type ChannelView = z.infer<typeof channelResponse>;

export const deliveryResponse = z.object({
  id: z.string(),
  channel: z.string(),
  notice: z.string(),
  recipients: z.array(z.string()),
  subject: z.string(),
  state: z.enum(['pending', 'delivered', 'dead']),
  attempts: z.number(),
  lastError: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  deliveredAt: z.date().nullable(),
});
export type DeliveryView = z.infer<typeof deliveryResponse>;

export const deliveryListQuery = z
  .object({
    state: z.enum(['pending', 'delivered', 'dead']).default('dead'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: uuid.optional(),
  })
  .strict();
export const deliveryPage = z.object({ items: z.array(deliveryResponse), nextCursor: z.string().nullable() });
export const deliveryParams = z.object({ id: uuid }).strict();

export const preferencesBody = z
  .object({
    muted: z.array(z.enum(notices)).max(notices.length).describe('Notices you do not want by email'),
  })
  .strict();
export const preferencesResponse = z.object({ muted: z.array(z.string()), available: z.array(z.string()) });
