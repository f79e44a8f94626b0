import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { RequestContext } from '../modules/audit/audit.types.js';
import type { Permission } from '../modules/identity/domain/roles.js';
import type { Principal } from '../modules/identity/identity.types.js';

/**
 * What a route needs from its caller. Every route must declare it (`config: { permission }`); a route
 * without one stops the server from starting.
 *  - a Permission: an authenticated caller whose roles grant it
 *  - 'authenticated': any valid token
 *  - 'public': nobody (health, metrics, the API description)
 */
export type RouteAccess = Permission | 'authenticated' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: RouteAccess;
    /** Attempts from one address are limited per minute (sign-in, second factor, reveal). */
    rateLimited?: boolean;
    /** The route returns secret material: it answers only callers on a jumpbox source network. */
    secret?: boolean;
    /**
     * Where it may be called from: by default the back-office networks (auth.allowedNetworks) and the
     * jumpboxes; 'metrics': auth.metricsNetworks; 'anywhere': health checks for load balancers.
     */
    onlyFrom?: 'anywhere' | 'metrics';
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** A module's routes: a function that adds them to the app. */
export type RoutePlugin = (app: App) => void;

export type { RequestContext };
