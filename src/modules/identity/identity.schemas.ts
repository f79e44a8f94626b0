import { z } from 'zod';
import { displayName, slug, text } from '../../platform/validation.js';
import { roles } from './domain/roles.js';

export const username = z
  .string()
  .regex(
    /^[a-z][a-z0-9._-]{1,62}$/,
    'use 2-63 lower-case letters, digits, dots, dashes or underscores, starting with a letter',
  );

export const groupName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,62}$/,
    'group names are lower-case letters, digits, dots, dashes or underscores',
  );

export const role = z.enum(roles);

export const createOperatorBody = z
  .object({
    username,
    displayName,
    email: z.string().email().max(254).optional(),
    groups: z.array(groupName).max(50).default([]),
    roles: z.array(role).max(roles.length).default(['requester']),
  })
  .strict();
export type CreateOperatorInput = z.infer<typeof createOperatorBody>;

export const updateOperatorBody = z
  .object({
    roles: z
      .array(role)
      .max(roles.length)
      .optional()
      .describe('The whole set of roles (requester is implied)'),
    groups: z.array(groupName).max(50).optional(),
    customers: z
      .array(slug)
      .max(200)
      .optional()
      .describe('Customers the operator is scoped to (names); empty: every customer'),
    active: z.boolean().optional().describe('false deactivates: sessions, tokens and live grants end'),
  })
  .strict();
export type UpdateOperatorInput = z.infer<typeof updateOperatorBody>;

export const createTokenBody = z
  .object({
    name: text(80).min(1),
    expiresInDays: z.number().int().min(1).max(365).default(90),
    /** A subset of your roles; empty or absent means all of them. */
    roles: z.array(role).max(roles.length).optional(),
  })
  .strict();
export type CreateTokenInput = z.infer<typeof createTokenBody>;

export const operatorResponse = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  email: z.string().nullable(),
  groups: z.array(z.string()),
  roles: z.array(role),
  active: z.boolean(),
  customerIds: z.array(z.string()).describe('Customers the operator is scoped to; empty: all'),
  createdAt: z.date(),
  updatedAt: z.date(),
});

export const tokenResponse = z.object({
  id: z.string(),
  operatorId: z.string(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the token, to tell tokens apart'),
  roles: z.array(role),
  createdAt: z.date(),
  expiresAt: z.date(),
  revokedAt: z.date().nullable(),
  lastUsedAt: z.date().nullable(),
});

export const createdTokenResponse = tokenResponse.extend({
  token: z.string().describe('The secret token. Shown once: store it now, Gatehouse keeps only its hash.'),
});

export const whoAmIResponse = z.object({
  operator: operatorResponse,
  tokenId: z.string().nullable(),
  sessionId: z.string().nullable(),
  roles: z.array(role),
  permissions: z.array(z.string()),
});
