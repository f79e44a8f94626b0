import { z } from 'zod';
import { text, uuid } from '../../platform/validation.js';
import { ref } from '../inventory/inventory.schemas.js';
import { durationSchema } from './domain/duration.js';
import { extensionStatuses } from './domain/extension-machine.js';
import { grantStatuses } from './domain/grant-machine.js';
import { permissionLevel } from './domain/policy-schema.js';
import { requestStatuses } from './domain/request-machine.js';

/**
 * The access API's contract. Inputs are strict; responses never carry a sealed password, and only the
 * credential route ever carries a password (once).
 */

export const ticketRef = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'a ticket reference is 1-64 letters, digits, dots, dashes or underscores, like OPS-42',
  );

export const createRequestBody = z
  .object({
    asset: ref.describe('Asset name or id'),
    level: permissionLevel,
    duration: durationSchema.describe('How long, like "30m", "2h" or "1h30m"'),
    reason: text(1000).min(1, 'give a reason: what you will do and why').describe('What you will do and why'),
    ticket: ticketRef.optional().describe('The ticket this work is for, like OPS-42'),
    fileTransfer: z.boolean().default(false),
    breakGlass: z
      .boolean()
      .default(false)
      .describe('Emergency access: self-approved, alerts, reviewed after'),
  })
  .strict();
export type CreateRequestInput = z.output<typeof createRequestBody>;

export const previewRequestBody = createRequestBody.extend({
  reason: text(1000).optional().describe('Optional here: the preview does not judge the reason'),
});
export type PreviewRequestInput = z.output<typeof previewRequestBody>;

export const reviewBody = z
  .object({ comment: text(1000).default('').describe('Required to deny: the requester sees it') })
  .strict();

export const revokeBody = z
  .object({ reason: text(500).optional() })
  .strict()
  .default({});

export const extendBody = z
  .object({
    duration: durationSchema.optional().describe('How much longer, like "30m" (or give until)'),
    until: z.iso
      .datetime({ offset: true, message: 'give the new end as an ISO 8601 time, like 2026-03-02T18:00:00Z' })
      .transform((v) => new Date(v))
      .optional()
      .describe('The new end of the grant (or give duration)'),
    reason: text(1000)
      .min(1, 'give a reason: why the work needs more time')
      .describe('Why the work needs more time: reviewers see it'),
  })
  .strict()
  .refine((b) => (b.duration === undefined) !== (b.until === undefined), {
    message: 'give either duration (how much longer) or until (the new end), not both',
  });
export type ExtendInput = z.output<typeof extendBody>;

export const sweepBody = z
  .object({
    prefix: z
      .string()
      .regex(/^gh_[a-z0-9_]{0,60}$/, 'a prefix is gh_ followed by lower-case letters, digits or underscores')
      .optional()
      .describe('Only accounts whose name starts with this (default: every Gatehouse account)'),
  })
  .strict()
  .default({});

export const idParams = z.object({ id: uuid }).strict();

const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: uuid.optional().describe('nextCursor from the previous page'),
  mine: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('Only your own (reviewers and admins see everyone’s by default)'),
};

export const requestListQuery = z
  .object({ ...pageQuery, status: z.enum(requestStatuses).optional(), asset: ref.optional() })
  .strict();
export type RequestListQuery = z.output<typeof requestListQuery>;

export const extensionListQuery = z
  .object({
    ...pageQuery,
    status: z.enum(extensionStatuses).optional(),
    grant: uuid.optional().describe('Only extensions of this grant'),
  })
  .strict();
export type ExtensionListQuery = z.output<typeof extensionListQuery>;

export const grantListQuery = z
  .object({
    ...pageQuery,
    status: z.enum(grantStatuses).optional(),
    asset: ref.optional(),
    holder: uuid
      .optional()
      .describe('Only grants held by this operator (their id): reviewers and admins, or yourself'),
  })
  .strict();
export type GrantListQuery = z.output<typeof grantListQuery>;

export const policySetBody = z
  .object({
    policies: z.array(z.unknown()).max(1000, 'at most 1000 policies').describe('See docs/access-policies.md'),
    comment: text(500).optional().describe('Why the policies change (audited)'),
  })
  .strict();

// ---- responses ---------------------------------------------------------------------------------

const engineName = z.enum(['postgres', 'mysql', 'mariadb', 'linux-ssh']);

export const endpointResponse = z.object({
  engine: engineName,
  host: z.string(),
  port: z.number(),
  database: z.string().nullable(),
  username: z.string(),
});

export type EndpointView = z.infer<typeof endpointResponse>;

export const grantResponse = z.object({
  id: z.string(),
  requestId: z.string(),
  asset: z.string(),
  assetId: z.string(),
  account: z.string(),
  level: permissionLevel,
  status: z.enum(grantStatuses),
  holder: z.string(),
  holderId: z.string(),
  ticket: z.string().nullable(),
  startedAt: z.date().nullable(),
  notAfter: z.date().nullable(),
  claimDeadline: z.date().nullable(),
  revealedAt: z.date().nullable(),
  revealedBy: z.string().nullable(),
  endReason: z.string().nullable(),
  attempts: z.object({ provision: z.number(), revoke: z.number() }),
  lastError: z.string().nullable(),
  revocationFailed: z.boolean(),
  endedAt: z.date().nullable(),
  connection: z.string().nullable().describe('How to connect while the grant is active (no password)'),
  endpoint: endpointResponse
    .nullable()
    .describe('What the connection line is made of, while the grant is active (no password)'),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type GrantView = z.infer<typeof grantResponse>;

export const reviewResponse = z.object({
  reviewer: z.string(),
  reviewerId: z.string(),
  verdict: z.enum(['approve', 'deny']),
  comment: z.string(),
  at: z.date(),
  countedFor: z.array(z.string()),
  afterDecision: z.boolean(),
});

export const requestResponse = z.object({
  id: z.string(),
  asset: z.string(),
  assetId: z.string(),
  level: permissionLevel,
  duration: z.string(),
  durationMs: z.number(),
  reason: z.string(),
  ticket: z.string().nullable(),
  fileTransfer: z.boolean(),
  breakGlass: z.boolean(),
  status: z.enum(requestStatuses),
  requester: z.string(),
  requesterId: z.string(),
  policy: z.string(),
  policyVersion: z.number(),
  approvals: z.object({
    quorum: z.number(),
    approverGroups: z.array(z.string()),
    requiredGroups: z.array(z.string()),
  }),
  tally: z.object({
    approvers: z.number(),
    quorum: z.number(),
    missingGroups: z.array(z.string()),
    satisfied: z.boolean(),
  }),
  reviewDeadline: z.date().nullable(),
  reviews: z.array(reviewResponse),
  autoApproved: z.boolean(),
  postReview: z.enum(['pending', 'accepted', 'rejected']).nullable(),
  decidedAt: z.date().nullable(),
  issuedAt: z.date().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  grant: grantResponse.nullable(),
});
export type RequestView = z.infer<typeof requestResponse>;

export const extensionResponse = z.object({
  id: z.string(),
  grantId: z.string(),
  asset: z.string(),
  account: z.string(),
  requester: z.string(),
  requesterId: z.string(),
  reason: z.string(),
  status: z.enum(extensionStatuses),
  policy: z.string(),
  policyVersion: z.number(),
  fromNotAfter: z.date().describe('Where the grant ended when the extension was asked for'),
  notAfter: z.date().describe('Where the grant ends once the extension is approved'),
  extendBy: z.string(),
  capped: z.boolean().describe('Shortened to the policy maximum'),
  approvals: requestResponse.shape.approvals,
  tally: requestResponse.shape.tally,
  reviewDeadline: z.date().nullable(),
  reviews: z.array(reviewResponse),
  autoApproved: z.boolean(),
  breakGlass: z.boolean(),
  decidedAt: z.date().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  grant: grantResponse,
});
export type ExtensionView = z.infer<typeof extensionResponse>;

export const credentialResponse = z.object({
  grantId: z.string(),
  account: z.string(),
  username: z.string().describe('The account name, to log in with'),
  engine: engineName,
  password: z.string().describe('Shown this once; it is not kept in a readable form anywhere'),
  host: z.string(),
  port: z.number(),
  database: z.string().nullable(),
  connection: z.string(),
  notAfter: z.date().nullable(),
  revealedAt: z.date(),
});
export type CredentialView = z.infer<typeof credentialResponse>;

export const sweepResponse = z.object({
  assets: z.number().describe('Database assets checked'),
  accounts: z.number().describe('Managed accounts found'),
  removed: z.array(z.object({ asset: z.string(), account: z.string() })),
  errors: z.array(z.object({ asset: z.string(), message: z.string() })),
});
export type SweepReport = z.infer<typeof sweepResponse>;

export const policySetResponse = z.object({
  version: z.number(),
  document: z.object({ policies: z.array(z.unknown()) }),
  checksum: z.string().nullable(),
  createdAt: z.date().nullable(),
  createdBy: z.string().nullable(),
  comment: z.string(),
});

export const policySummaryResponse = z.object({
  name: z.string(),
  requesterGroups: z.array(z.string()),
  levels: z.array(z.string()),
  maxDuration: z.string(),
  autoApprove: z.boolean(),
  breakGlass: z.boolean(),
});

const refusalResponse = z.object({ code: z.string(), message: z.string() });

export const previewResponse = z.object({
  outcome: z.enum(['refused', 'auto-approved', 'needs-approval', 'break-glass']),
  allowed: z.boolean().describe('Whether a request with exactly these fields would be accepted'),
  policy: z.string().nullable().describe('The governing policy; null when none applies'),
  policyVersion: z.number(),
  applicable: z.array(z.string()),
  reasons: z.array(refusalResponse).describe('Why not, every reason at once; empty when allowed'),
  maxDuration: z.string().nullable(),
  maxDurationMs: z.number().nullable(),
  approvals: z
    .object({
      quorum: z.number(),
      approverGroups: z.array(z.string()),
      requiredGroups: z.array(z.string()),
      reviewWindow: z.string(),
    })
    .nullable(),
  autoApproved: z.boolean(),
  autoApprovalRules: z.array(
    z.object({
      levels: z.array(permissionLevel),
      tiers: z.array(z.string()).nullable(),
      maxDuration: z.string(),
      requireTicket: z.boolean(),
      fileTransfer: z.boolean(),
    }),
  ),
  ticket: z.enum(['required', 'optional']).nullable(),
  fileTransferAllowed: z.boolean().nullable(),
  clockStart: z
    .object({ mode: z.enum(['at-approval', 'at-first-reveal']), claimWindow: z.string().optional() })
    .nullable(),
  breakGlass: z.object({
    available: z.boolean(),
    maxDuration: z.string().nullable(),
    requireTicket: z.boolean().nullable(),
    reasons: z.array(refusalResponse),
  }),
});
export type PreviewView = z.infer<typeof previewResponse>;

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
