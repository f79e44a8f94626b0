import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { Histogram, type Registry } from 'prom-client';
import { isStoreError } from '../platform/db/store.js';
import type { Logger } from '../platform/logger.js';
import { ForbiddenError, GatehouseError, UnauthenticatedError } from '../platform/errors.js';
import type { Principal } from '../modules/identity/identity.types.js';
import type { WhereFromService } from '../modules/identity/where-from.service.js';
import { createRateLimit } from '../modules/identity/domain/rate-limit.js';
import { CSRF_HEADER, SESSION_COOKIE } from './cookies.js';
import { isScoped, type CustomerScope } from './customer-scope.js';
import { sendError, toErrorResponse } from './errors.js';
import type { App, RouteAccess, RoutePlugin } from './types.js';
import { findWebRoot, registerWeb, type WebPages } from './web.js';

export interface ServerDeps {
  logger: Logger;
  metrics: Registry;
  /** Resolves a bearer API token to its caller. */
  authenticate(token: string, where: { requestId: string; sourceIp: string }): Promise<Principal>;
  /** Resolves a session cookie; state changes must carry the session's CSRF token. */
  authenticateSession(
    secret: string,
    check: { stateChanging: boolean; csrfToken: string | undefined },
  ): Promise<Principal>;
  /** Attempts per minute from one address on routes marked `config.rateLimited`. */
  rateLimitPerMinute: number;
  /** Where callers may call from (see RouteConfig `onlyFrom` and `secret`). */
  whereFrom: WhereFromService;
  /** What customer-scoped operators may reach (see customer-scope.ts). */
  customerScope: CustomerScope;
  routes: RoutePlugin[];
  bodyLimitBytes: number;
  trustedProxies: string[];
  version: string;
  /** The built web back-office (web/dist); absent or not built: the server serves the API only. */
  webDir?: string;
}

const DOCS_PREFIX = '/api/docs';

/** A route as the server registered it: what the shared security suite walks. */
export interface RouteEntry {
  method: string;
  url: string;
  permission: RouteAccess;
  secret: boolean;
}

const routeTables = new WeakMap<object, RouteEntry[]>();

/** Every route of a built server with its declared access (HEAD twins and the docs pages left out). */
export function routeTable(app: App): RouteEntry[] {
  return [...(routeTables.get(app) ?? [])];
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match)
    throw new UnauthenticatedError('Malformed Authorization header: use "Authorization: Bearer <token>"');
  return match[1];
}

/** Builds the HTTP server: every route validated by zod, described in OpenAPI, and behind its declared permission. */
export async function buildServer(deps: ServerDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger,
    genReqId: () => randomUUID(),
    bodyLimit: deps.bodyLimitBytes,
    trustProxy: deps.trustedProxies.length > 0 ? deps.trustedProxies : false,
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<ZodTypeProvider>();

  await app.register(fastifyCookie);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('principal', undefined);

  const table: RouteEntry[] = [];
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(DOCS_PREFIX)) {
      route.config = { ...route.config, permission: 'public' };
      return;
    }
    if (route.config?.secret && route.config.permission === 'public') {
      throw new Error(`Route ${String(route.method)} ${route.url} returns secrets and cannot be public`);
    }
    for (const method of [route.method].flat()) {
      if (method === 'HEAD' || !route.config?.permission) continue;
      table.push({
        method,
        url: route.url,
        permission: route.config.permission,
        secret: route.config.secret === true,
      });
    }
    if (!route.config?.permission) {
      throw new Error(
        `Route ${String(route.method)} ${route.url} declares no permission (config.permission)`,
      );
    }
  });

  const duration = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [deps.metrics],
  });

  const attempts = createRateLimit({ limit: deps.rateLimitPerMinute, windowMs: 60_000 });
  const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const { config } = request.routeOptions;
    if (config.rateLimited) {
      const wait = attempts.hit(`${request.routeOptions.url ?? ''} ${request.ip}`, Date.now());
      if (wait !== undefined) {
        reply.header('retry-after', String(Math.ceil(wait / 1000)));
        throw new GatehouseError('rate_limited', 'Too many attempts from your address; wait and try again', {
          details: { retryAfterSeconds: Math.ceil(wait / 1000) },
        });
      }
    }
    if (config.onlyFrom === 'metrics') deps.whereFrom.checkMetrics(request.ip);
    else if (config.onlyFrom !== 'anywhere') await deps.whereFrom.checkBackOffice(request.ip);
    const access: RouteAccess | undefined = config.permission;
    if (access === 'public' || access === undefined) return;
    const token = bearerToken(request);
    const session = token ? undefined : request.cookies[SESSION_COOKIE];
    if (!token && !session) throw new UnauthenticatedError();
    const csrfHeader = request.headers[CSRF_HEADER];
    const principal = token
      ? await deps.authenticate(token, { requestId: request.id, sourceIp: request.ip })
      : await deps.authenticateSession(session!, {
          stateChanging: !safeMethods.has(request.method),
          csrfToken: typeof csrfHeader === 'string' ? csrfHeader : undefined,
        });
    request.principal = principal;
    if (access !== 'authenticated' && !principal.permissions.has(access)) {
      throw new ForbiddenError(
        `This needs the permission '${access}', which none of your roles (${principal.roles.join(', ')}) grants`,
      );
    }
    if (config.secret) {
      await deps.whereFrom.checkSecret(
        {
          actor: { type: 'operator', id: principal.operatorId, name: principal.username },
          requestId: request.id,
          sourceIp: request.ip,
        },
        `${request.method} ${request.routeOptions.url ?? ''}`,
      );
    }
  });

  // before validation, so a scoped caller learns nothing about another customer's object from a 400
  app.addHook('preValidation', async (request) => {
    if (isScoped(request.principal)) await deps.customerScope.check(request, request.principal);
  });

  app.addHook('preSerialization', async (request, _reply, payload) =>
    isScoped(request.principal) ? deps.customerScope.filter(request, request.principal, payload) : payload,
  );

  app.addHook('onResponse', async (request, reply) => {
    duration
      .labels(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorResponse(error, request);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    // the caller is told no, but a refusal only the database caught means a route or service check is missing
    else if (isStoreError(error))
      request.log.warn({ err: error, code: body.code, status }, 'request refused by the store');
    else request.log.info({ code: body.code, status }, 'request refused');
    return webPages?.errorPage(request, reply, status, body) ?? sendError(reply, status, body);
  });

  let webPages: WebPages | undefined;
  app.setNotFoundHandler(
    (request, reply) =>
      webPages?.page(request, reply) ??
      sendError(reply, 404, {
        code: 'not_found',
        message: `No route ${request.method} ${request.url.split('?')[0]}; the API is described at /api/openapi.json`,
        requestId: request.id,
      }),
  );

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse API',
        version: deps.version,
        description:
          'Just-in-time access, authoritative network rules, hardening and SOC 2 evidence. ' +
          'Authenticate with an API token (`Authorization: Bearer gth_…`) or a browser session from ' +
          '`/api/v1/auth` (state changes then need `X-CSRF-Token`). Errors are `{code, message, requestId}`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearerAuth: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });

  const webRoot = deps.webDir === undefined ? undefined : findWebRoot(deps.webDir);
  if (webRoot) {
    webPages = await registerWeb(app as unknown as App, webRoot);
    deps.logger.info({ webRoot }, 'serving the web back-office at /');
  } else {
    // without a built back-office the front door is the API's documentation
    if (deps.webDir !== undefined)
      deps.logger.warn(
        { webDir: deps.webDir },
        'the web back-office is not built (no index.html there): serving the API only; run `npm run build:web`',
      );
    app.get('/', { config: { permission: 'public' }, schema: { hide: true } }, async (_request, reply) =>
      reply.redirect(DOCS_PREFIX),
    );
  }

  app.get('/api/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  for (const plugin of deps.routes) plugin(app as unknown as App);
  await app.ready();
  routeTables.set(app, table);
  return app as unknown as App;
}
