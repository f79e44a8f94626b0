import { z } from 'zod';
import { contextOf, principalOf } from '../../http/context.js';
import type { RoutePlugin } from '../../http/types.js';
import { uuid } from '../../platform/validation.js';
import {
  createdTokenResponse,
  createOperatorBody,
  createTokenBody,
  operatorResponse,
  tokenResponse,
  updateOperatorBody,
  whoAmIResponse,
} from './identity.schemas.js';
import type { IdentityService } from './identity.service.js';
import type { OperatorAdminService } from './operator-admin.service.js';

export function identityRoutes(deps: {
  identity: IdentityService;
  operatorAdmin: OperatorAdminService;
}): RoutePlugin {
  const { identity, operatorAdmin } = deps;
  return (app) => {
    app.get(
      '/api/v1/me',
      {
        config: { permission: 'authenticated' },
        schema: {
          tags: ['identity'],
          summary: 'Who am I: the calling operator and the roles of this token',
          response: { 200: whoAmIResponse },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        return {
          operator: await identity.getOperator(principal.operatorId),
          tokenId: principal.tokenId,
          sessionId: principal.sessionId,
          roles: principal.roles,
          permissions: [...principal.permissions].sort(),
        };
      },
    );

    app.get(
      '/api/v1/operators',
      {
        config: { permission: 'operators:read' },
        schema: {
          tags: ['identity'],
          summary: 'List operators',
          response: { 200: z.object({ items: z.array(operatorResponse) }) },
        },
      },
      async () => ({ items: await identity.listOperators() }),
    );

    app.get(
      '/api/v1/operators/:ref',
      {
        config: { permission: 'operators:read' },
        schema: {
          tags: ['identity'],
          summary: 'Show an operator by id or username',
          params: z.object({ ref: z.string().min(1).max(63) }),
          response: { 200: operatorResponse },
        },
      },
      async (request) => identity.getOperator(request.params.ref),
    );

    app.post(
      '/api/v1/operators',
      {
        config: { permission: 'operators:write' },
        schema: {
          tags: ['identity'],
          summary: 'Create an operator (one per person)',
          body: createOperatorBody,
          response: { 201: operatorResponse },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await identity.createOperator(contextOf(request), request.body)),
    );

    app.patch(
      '/api/v1/operators/:ref',
      {
        config: { permission: 'operators:write' },
        schema: {
          tags: ['identity'],
          summary:
            "Change an operator's roles, groups, customer scope or status (not your own); deactivating ends their sessions, tokens and live grants",
          params: z.object({ ref: z.string().min(1).max(63) }),
          body: updateOperatorBody,
          response: {
            200: z.object({
              operator: operatorResponse,
              grantsRevoked: z.number(),
              grantsNotRevoked: z.array(z.object({ grant: z.string(), message: z.string() })),
            }),
          },
        },
      },
      async (request) =>
        operatorAdmin.updateOperator(
          contextOf(request),
          principalOf(request),
          request.params.ref,
          request.body,
        ),
    );

    app.get(
      '/api/v1/tokens',
      {
        config: { permission: 'tokens:own' },
        schema: {
          tags: ['identity'],
          summary: 'List your API tokens',
          response: { 200: z.object({ items: z.array(tokenResponse) }) },
        },
      },
      async (request) => ({ items: await identity.listTokens(principalOf(request)) }),
    );

    app.post(
      '/api/v1/tokens',
      {
        config: { permission: 'tokens:own' },
        schema: {
          tags: ['identity'],
          summary: 'Create an API token for yourself; the secret is in this response only',
          body: createTokenBody,
          response: { 201: createdTokenResponse },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await identity.createToken(contextOf(request), principalOf(request), request.body)),
    );

    app.delete(
      '/api/v1/tokens/:id',
      {
        config: { permission: 'tokens:own' },
        schema: {
          tags: ['identity'],
          summary: 'Revoke an API token',
          params: z.object({ id: uuid }),
          response: { 200: tokenResponse },
        },
      },
      async (request) => identity.revokeToken(contextOf(request), principalOf(request), request.params.id),
    );
  };
}
