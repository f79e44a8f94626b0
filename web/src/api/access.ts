import { z } from 'zod';
import { api, withQuery } from './client';

/**
 * Just-in-time access as the back-office reads it: /api/v1/access/* (requests, the policy preview,
 * extensions), /api/v1/grants/* (grants, the one-time reveal, revoke, extend) and the inventory's asset
 * search for the picker.
 */

export const levels = ['read-only', 'read-write', 'admin'] as const;
export type Level = (typeof levels)[number];

const date = z.string();
const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const endpoint = z.object({
  engine: z.enum(['postgres', 'mysql', 'mariadb', 'linux-ssh']),
  host: z.string(),
  port: z.number(),
  database: z.string().nullable(),
  username: z.string(),
});
export type Endpoint = z.infer<typeof endpoint>;

export const grant = z.object({
  id: z.string(),
  requestId: z.string(),
  asset: z.string(),
  assetId: z.string(),
  account: z.string(),
  level: z.enum(levels),
  status: z.string(),
  holder: z.string(),
  holderId: z.string(),
  ticket: z.string().nullable(),
  startedAt: date.nullable(),
  notAfter: date.nullable(),
  claimDeadline: date.nullable(),
  revealedAt: date.nullable(),
  revealedBy: z.string().nullable(),
  endReason: z.string().nullable(),
  lastError: z.string().nullable(),
  revocationFailed: z.boolean(),
  endedAt: date.nullable(),
  connection: z.string().nullable(),
  endpoint: endpoint.nullable(),
  createdAt: date,
});
export type Grant = z.infer<typeof grant>;

const tally = z.object({
  approvers: z.number(),
  quorum: z.number(),
  missingGroups: z.array(z.string()),
  satisfied: z.boolean(),
});
const approvals = z.object({
  quorum: z.number(),
  approverGroups: z.array(z.string()),
  requiredGroups: z.array(z.string()),
});
const review = z.object({
  reviewer: z.string(),
  reviewerId: z.string(),
  verdict: z.enum(['approve', 'deny']),
  comment: z.string(),
  at: date,
  countedFor: z.array(z.string()),
});

export const accessRequest = z.object({
  id: z.string(),
  asset: z.string(),
  assetId: z.string(),
  level: z.enum(levels),
  duration: z.string(),
  reason: z.string(),
  ticket: z.string().nullable(),
  fileTransfer: z.boolean(),
  breakGlass: z.boolean(),
  status: z.string(),
  requester: z.string(),
  requesterId: z.string(),
  policy: z.string(),
  approvals,
  tally,
  reviewDeadline: date.nullable(),
  reviews: z.array(review),
  autoApproved: z.boolean(),
  createdAt: date,
  grant: grant.nullable(),
});
export type AccessRequest = z.infer<typeof accessRequest>;

export const extension = z.object({
  id: z.string(),
  grantId: z.string(),
  asset: z.string(),
  requester: z.string(),
  requesterId: z.string(),
  reason: z.string(),
  status: z.string(),
  fromNotAfter: date,
  notAfter: date,
  extendBy: z.string(),
  capped: z.boolean(),
  approvals,
  tally,
  reviews: z.array(review),
  autoApproved: z.boolean(),
  createdAt: date,
});
export type Extension = z.infer<typeof extension>;

const refusal = z.object({ code: z.string(), message: z.string() });
export const preview = z.object({
  outcome: z.enum(['refused', 'auto-approved', 'needs-approval', 'break-glass']),
  allowed: z.boolean(),
  policy: z.string().nullable(),
  reasons: z.array(refusal),
  maxDuration: z.string().nullable(),
  approvals: approvals.extend({ reviewWindow: z.string() }).nullable(),
  autoApproved: z.boolean(),
  autoApprovalRules: z.array(
    z.object({
      levels: z.array(z.string()),
      tiers: z.array(z.string()).nullable(),
      maxDuration: z.string(),
      requireTicket: z.boolean(),
      fileTransfer: z.boolean(),
    }),
  ),
  ticket: z.enum(['required', 'optional']).nullable(),
  fileTransferAllowed: z.boolean().nullable(),
  breakGlass: z.object({
    available: z.boolean(),
    maxDuration: z.string().nullable(),
    requireTicket: z.boolean().nullable(),
    reasons: z.array(refusal),
  }),
});
export type Preview = z.infer<typeof preview>;

export const credential = z.object({
  grantId: z.string(),
  account: z.string(),
  username: z.string(),
  engine: endpoint.shape.engine,
  password: z.string(),
  host: z.string(),
  port: z.number(),
  database: z.string().nullable(),
  connection: z.string(),
  notAfter: date.nullable(),
  revealedAt: date,
});
export type Credential = z.infer<typeof credential>;

export const asset = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['server', 'database']),
  customer: z.string().nullable(),
  environment: z.string().nullable(),
  region: z.string(),
  engine: z.string().optional(),
  os: z.string().optional(),
});
export type Asset = z.infer<typeof asset>;

const named = z.object({ id: z.string(), name: z.string() });

export interface RequestFields {
  asset: string;
  level: Level;
  duration: string;
  reason?: string;
  ticket?: string;
  fileTransfer: boolean;
  breakGlass: boolean;
}

export interface AssetSearch {
  q?: string;
  customer?: string;
  environment?: string;
  kind?: string;
}

export const accessApi = {
  assets: (search: AssetSearch, signal?: AbortSignal) =>
    api.get(withQuery('/api/v1/assets', { ...search, limit: 25 }), page(asset), signal),
  customers: (signal?: AbortSignal) =>
    api.get(withQuery('/api/v1/customers', { limit: 500 }), page(named), signal),
  environments: (customer: string, signal?: AbortSignal) =>
    api.get(
      withQuery(`/api/v1/customers/${encodeURIComponent(customer)}/environments`, { limit: 500 }),
      page(named),
      signal,
    ),
  preview: (fields: RequestFields) => api.post('/api/v1/access/requests/preview', fields, preview),
  request: (fields: RequestFields) => api.post('/api/v1/access/requests', fields, accessRequest),
  requests: (query: { mine?: boolean; status?: string; limit?: number }, signal?: AbortSignal) =>
    api.get(withQuery('/api/v1/access/requests', query), page(accessRequest), signal),
  review: (id: string, verdict: 'approve' | 'deny', comment: string) =>
    api.post(`/api/v1/access/requests/${id}/${verdict}`, { comment }, accessRequest),
  cancel: (id: string) => api.post(`/api/v1/access/requests/${id}/cancel`, {}, accessRequest),
  grants: (query: { mine?: boolean; holder?: string; limit?: number }, signal?: AbortSignal) =>
    api.get(withQuery('/api/v1/grants', query), page(grant), signal),
  reveal: (id: string) => api.get(`/api/v1/grants/${id}/credential`, credential),
  revoke: (id: string) => api.post(`/api/v1/grants/${id}/revoke`, {}, grant),
  extend: (id: string, duration: string, reason: string) =>
    api.post(`/api/v1/grants/${id}/extend`, { duration, reason }, extension),
  extensions: (query: { mine?: boolean; status?: string }, signal?: AbortSignal) =>
    api.get(withQuery('/api/v1/access/extensions', query), page(extension), signal),
  reviewExtension: (id: string, verdict: 'approve' | 'deny', comment: string) =>
    api.post(`/api/v1/access/extensions/${id}/${verdict}`, { comment }, extension),
};

/** "in 1h 05m 12s" style remaining time; "ended" at or past zero. */
export function remaining(until: string | null, now: number): string {
  if (!until) return '—';
  let seconds = Math.floor((new Date(until).getTime() - now) / 1000);
  if (seconds <= 0) return 'ended';
  const h = Math.floor(seconds / 3600);
  seconds -= h * 3600;
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${two(m)}m ${two(s)}s` : `${m}m ${two(s)}s`;
}

/** A time as the operator reads it (their locale, to the minute). */
export function when(at: string | null): string {
  if (!at) return '—';
  return new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
