import { z } from 'zod';
import { api, withQuery } from './client';

/**
 * The inventory as the back-office browses it: customers, a customer's environments, assets and
 * jumpboxes from /api/v1, one cursor page at a time. Responses never carry credentials, only whether
 * one is stored.
 */

const date = z.string();
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
export type CursorPage<T> = { items: T[]; nextCursor: string | null };

export const customer = z.object({
  id: z.string(),
  name: z.string(),
  displayName: z.string(),
  createdAt: date,
});
export type Customer = z.infer<typeof customer>;

export const environment = z.object({
  id: z.string(),
  name: z.string(),
  tier: z.string(),
  customer: z.string(),
  region: z.string(),
  createdAt: date,
});
export type Environment = z.infer<typeof environment>;

const assetCommon = {
  id: z.string(),
  name: z.string(),
  customer: z.string().nullable(),
  environment: z.string().nullable(),
  region: z.string(),
  machineType: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  groups: z.array(z.string()),
};
export const asset = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('server'),
    ...assetCommon,
    os: z.string(),
    address: z.string(),
    sshPort: z.number(),
    hasAutomationCredential: z.boolean(),
  }),
  z.object({
    kind: z.literal('database'),
    ...assetCommon,
    engine: z.string(),
    host: z.string(),
    port: z.number(),
    address: z.string().nullable(),
    hasAdminCredential: z.boolean(),
  }),
]);
export type Asset = z.infer<typeof asset>;

export const jumpbox = z.object({
  id: z.string(),
  name: z.string(),
  region: z.string(),
  address: z.string(),
  sourceCidrs: z.array(z.string()),
  description: z.string(),
});
export type Jumpbox = z.infer<typeof jumpbox>;

export interface Paging {
  q?: string | undefined;
  cursor?: string | undefined;
  limit?: number;
}

export interface AssetFilters extends Paging {
  customer?: string | undefined;
  environment?: string | undefined;
  kind?: string | undefined;
}

export const PAGE_SIZE = 25;

export const inventoryApi = {
  customers: (query: Paging, signal?: AbortSignal) =>
    api.get(withQuery('/api/v1/customers', { limit: PAGE_SIZE, ...query }), pageOf(customer), signal),
  environments: (customerName: string, query: Paging, signal?: AbortSignal) =>
    api.get(
      withQuery(`/api/v1/customers/${encodeURIComponent(customerName)}/environments`, {
        limit: PAGE_SIZE,
        ...query,
      }),
      pageOf(environment),
      signal,
    ),
  assets: (query: AssetFilters, signal?: AbortSignal) =>
    api.get(withQuery('/api/v1/assets', { limit: PAGE_SIZE, ...query }), pageOf(asset), signal),
  jumpboxes: (query: Paging, signal?: AbortSignal) =>
    api.get(withQuery('/api/v1/jumpboxes', { limit: PAGE_SIZE, ...query }), pageOf(jumpbox), signal),
};
