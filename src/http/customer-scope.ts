import type { FastifyRequest } from 'fastify';
import type { Principal } from '../modules/identity/identity.types.js';
import { ForbiddenError, NotFoundError } from '../platform/errors.js';

/**
 * Customer scope, enforced for every route in one place. A customer-scoped operator (a non-empty
 * `customerIds`) reaches an object only when it belongs to one of their customers:
 *  - a route with an object in its path must have a resolver here, or scoped operators are refused
 *    (fail closed: a new route is not open to them until someone says how its object maps to a customer);
 *    another customer's object answers 404, as if it did not exist;
 *  - a request naming an asset in its body is refused the same way;
 *  - list answers drop items of other customers (items carrying `customerId`, or an `assetId`).
 */
export interface ScopeLookups {
  assetCustomer(ref: string): Promise<string | null>;
  customerId(ref: string): Promise<string>;
  grantAsset(id: string): Promise<string>;
  requestAsset(id: string): Promise<string>;
  extensionAsset(id: string): Promise<string>;
}

type Resolver = (lookups: ScopeLookups, params: Record<string, string>) => Promise<string | null>;

const viaAsset =
  (find: (l: ScopeLookups, id: string) => Promise<string>, what: string): Resolver =>
  async (lookups, params) =>
    lookups.assetCustomer(await find(lookups, params.id ?? '').catch(notFound(what, params.id)));

const notFound = (what: string, ref: string | undefined) => () => {
  throw new NotFoundError(what, ref ?? '');
};

const unbound = new Set(['/api/v1/operators/:ref', '/api/v1/tokens/:id', '/api/v1/tickets/:ref']);

/** Route URL prefixes (with their parameter) and how their object maps to a customer. */
const resolvers: [prefix: string, what: string, resolve: Resolver][] = [
  ['/api/v1/assets/:ref', 'Asset', (l, p) => l.assetCustomer(p.ref ?? '')],
  ['/api/v1/customers/:customer', 'Customer', (l, p) => l.customerId(p.customer ?? '')],
  ['/api/v1/customers/:ref', 'Customer', (l, p) => l.customerId(p.ref ?? '')],
  ['/api/v1/grants/:id', 'Grant', viaAsset((l, id) => l.grantAsset(id), 'Grant')],
  [
    '/api/v1/access/requests/:id',
    'Access request',
    viaAsset((l, id) => l.requestAsset(id), 'Access request'),
  ],
  ['/api/v1/access/extensions/:id', 'Extension', viaAsset((l, id) => l.extensionAsset(id), 'Extension')],
  // objects that belong to the caller or to nobody in particular
  ...[...unbound].map((prefix): [string, string, Resolver] => [prefix, 'Object', async () => null]),
];

type AccessCaller = {
  operatorId: string;
  username: string;
  groups: readonly string[];
  permissions: ReadonlySet<string>;
};

/** The lookups, from the inventory and access services (read as a reader of everything). */
export function scopeLookups(
  inventory: {
    getAsset(ref: string): Promise<{ customerId: string | null }>;
    getCustomer(ref: string): Promise<{ id: string }>;
  },
  access: {
    getGrant(caller: AccessCaller, id: string): Promise<{ assetId: string }>;
    getRequest(caller: AccessCaller, id: string): Promise<{ assetId: string }>;
    getExtension(caller: AccessCaller, id: string): Promise<{ asset: string }>;
  },
): ScopeLookups {
  const reader: AccessCaller = {
    operatorId: '00000000-0000-0000-0000-000000000000',
    username: 'customer-scope',
    groups: [],
    permissions: new Set(['access:read']),
  };
  return {
    // an asset of no customer is the platform's: outside every customer scope
    assetCustomer: async (ref) => (await inventory.getAsset(ref)).customerId ?? '',
    customerId: async (ref) => (await inventory.getCustomer(ref)).id,
    grantAsset: async (id) => (await access.getGrant(reader, id)).assetId,
    requestAsset: async (id) => (await access.getRequest(reader, id)).assetId,
    extensionAsset: async (id) => (await access.getExtension(reader, id)).asset,
  };
}

/** Whether a route's object belongs to a customer (false for operators, tokens, tickets: nobody's). */
export function customerBound(url: string): boolean {
  const match = resolvers.find(([prefix]) => url === prefix || url.startsWith(`${prefix}/`));
  return match ? !unbound.has(match[0]) : true;
}

export const isScoped = (principal: Principal | undefined): principal is Principal =>
  principal !== undefined && principal.customerIds.length > 0;

export function createCustomerScope(lookups: ScopeLookups) {
  return {
    /** Before the handler: the object in the path, or the asset in the body, must be in scope. */
    async check(request: FastifyRequest, principal: Principal): Promise<void> {
      const url = request.routeOptions.url ?? '';
      const params = (request.params ?? {}) as Record<string, string>;
      const inScope = (customer: string | null) =>
        customer === null || principal.customerIds.includes(customer);
      if (url.includes('/:')) {
        const match = resolvers.find(([prefix]) => url === prefix || url.startsWith(`${prefix}/`));
        if (!match) {
          throw new ForbiddenError(
            'This route is not open to operators scoped to customers (its objects are not mapped to a customer)',
          );
        }
        const [, what, resolve] = match;
        const customer = await resolve(lookups, params);
        if (!inScope(customer)) throw new NotFoundError(what, Object.values(params)[0] ?? '');
      }
      const body = request.body as { asset?: unknown } | undefined;
      if (body && typeof body === 'object' && typeof body.asset === 'string') {
        if (!inScope(await lookups.assetCustomer(body.asset))) throw new NotFoundError('Asset', body.asset);
      }
    },

    /** After the handler: list items of other customers are dropped. */
    async filter(request: FastifyRequest, principal: Principal, payload: unknown): Promise<unknown> {
      if (!payload || typeof payload !== 'object' || !Array.isArray((payload as { items?: unknown }).items)) {
        return payload;
      }
      const isCustomerList = request.routeOptions.url === '/api/v1/customers';
      const cache = new Map<string, string | null>();
      const customerOfAsset = async (id: string) => {
        if (!cache.has(id)) cache.set(id, await lookups.assetCustomer(id).catch(() => ''));
        return cache.get(id) ?? '';
      };
      const kept = [];
      for (const item of (payload as { items: Record<string, unknown>[] }).items) {
        let customer: string | null = null; // null: not a customer's object
        if (isCustomerList && typeof item.id === 'string') customer = item.id;
        else if ('customerId' in item) customer = typeof item.customerId === 'string' ? item.customerId : '';
        else if (typeof item.assetId === 'string') customer = await customerOfAsset(item.assetId);
        if (customer === null || principal.customerIds.includes(customer)) kept.push(item);
      }
      return { ...payload, items: kept };
    },
  };
}

export type CustomerScope = ReturnType<typeof createCustomerScope>;
