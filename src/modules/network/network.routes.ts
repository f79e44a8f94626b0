import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { contextOf, principalOf } from '../../http/context.js';
import { ForbiddenError } from '../../platform/errors.js';
import type { RoutePlugin } from '../../http/types.js';
import {
  checkRuleBody,
  checkRuleResponse,
  createRolloutBody,
  createRuleBody,
  deleteRuleQuery,
  fleetQuery,
  idParams,
  findingResponse,
  importResponse,
  planQuery,
  planResponse,
  rolloutResponse,
  ruleListQuery,
  ruleListResponse,
  ruleResponse,
  updateRuleBody,
} from './network.schemas.js';
import type { NetworkService } from './network.service.js';

/**
 * Network rules span customers (system rules, shared groups, fleet plans): they are platform work, so
 * operators scoped to customers are refused outright rather than shown a filtered, misleading view.
 */
async function platformOnly(request: FastifyRequest): Promise<void> {
  if (principalOf(request).customerIds.length > 0) {
    throw new ForbiddenError(
      'Network rules are managed by platform network admins; operators scoped to customers cannot use them',
    );
  }
  await Promise.resolve();
}

/** Network rules, plans, drift, imports and rollouts over HTTP. The service checks and audits. */
export function networkRoutes(deps: { network: NetworkService }): RoutePlugin {
  const { network } = deps;
  const tags = ['network'];
  return (app) => {
    app.get(
      '/api/v1/network/rules',
      {
        config: { permission: 'network:read' },
        preHandler: platformOnly,
        schema: {
          tags,
          summary: 'System and customer rules, with check findings',
          querystring: ruleListQuery,
          response: { 200: ruleListResponse },
        },
      },
      async (request) => network.listRules(request.query),
    );

    app.post(
      '/api/v1/network/rules',
      {
        config: { permission: 'network:write' },
        preHandler: platformOnly,
        schema: {
          tags,
          summary: 'Add a customer rule; refused (400, details.check) when a security check finds a problem',
          body: createRuleBody,
          response: { 201: ruleResponse },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await network.createRule(contextOf(request), request.body)),
    );

    app.get(
      '/api/v1/network/rules/:id',
      {
        config: { permission: 'network:read' },
        preHandler: platformOnly,
        schema: { tags, summary: 'One customer rule', params: idParams, response: { 200: ruleResponse } },
      },
      async (request) => network.getRule(request.params.id),
    );

    app.patch(
      '/api/v1/network/rules/:id',
      {
        config: { permission: 'network:write' },
        preHandler: platformOnly,
        schema: {
          tags,
          summary:
            'Edit a customer rule, from the version read (409 when it has changed since); checked like a new rule, ticket required',
          params: idParams,
          body: updateRuleBody,
          response: { 200: ruleResponse },
        },
      },
      async (request) => network.updateRule(contextOf(request), request.params.id, request.body),
    );

    app.delete(
      '/api/v1/network/rules/:id',
      {
        config: { permission: 'network:write' },
        preHandler: platformOnly,
        schema: {
          tags,
          summary: 'Remove a customer rule (takes effect at the next apply)',
          params: idParams,
          querystring: deleteRuleQuery,
        },
      },
      async (request, reply) => {
        await network.deleteRule(contextOf(request), request.params.id, request.query.ticket);
        return reply.code(204).send();
      },
    );

    app.get(
      '/api/v1/network/checks',
      {
        config: { permission: 'network:read' },
        preHandler: platformOnly,
        schema: {
          tags,
          summary: 'Check findings on the system rules (reported, not refused)',
          response: { 200: z.object({ findings: z.array(findingResponse) }) },
        },
      },
      async () => ({ findings: network.checkSystemRules() }),
    );

    app.post(
      '/api/v1/network/checks',
      {
        config: { permission: 'network:read' },
        preHandler: platformOnly,
        schema: {
          tags,
          summary:
            'Check a customer rule without saving it: every problem and check finding, each naming its field',
          body: checkRuleBody,
          response: { 200: checkRuleResponse },
        },
      },
      async (request) => network.checkDraft(request.body),
    );

    app.get(
      '/api/v1/network/plan',
      {
        config: { permission: 'network:read' },
        preHandler: platformOnly,
        schema: {
          tags,
          summary: 'What an apply would change on each layer of each asset, and the brake’s verdict',
          querystring: planQuery,
          response: { 200: planResponse },
        },
      },
      async (request) => network.plan(request.query),
    );

    app.get(
      '/api/v1/network/drift',
      {
        config: { permission: 'network:read' },
        preHandler: platformOnly,
        schema: {
          tags,
          summary: 'The layers that differ from the desired state (report only)',
          querystring: fleetQuery,
          response: { 200: planResponse },
        },
      },
      async (request) => network.drift(request.query),
    );

    app.get(
      '/api/v1/network/import',
      {
        config: { permission: 'network:read' },
        preHandler: platformOnly,
        schema: {
          tags,
          summary:
            'What each layer holds today, classified as system, customer or unknown: the conversion plan',
          querystring: fleetQuery,
          response: { 200: importResponse },
        },
      },
      async (request) => network.importLayers(request.query),
    );

    app.post(
      '/api/v1/network/rollouts',
      {
        config: { permission: 'network:apply' },
        preHandler: platformOnly,
        schema: {
          tags,
          summary: 'Apply the desired state in waves; stops at the brake (412) unless confirmed',
          body: createRolloutBody,
          response: { 201: rolloutResponse },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await network.startRollout(contextOf(request), request.body)),
    );

    app.get(
      '/api/v1/network/rollouts/:id',
      {
        config: { permission: 'network:read' },
        preHandler: platformOnly,
        schema: {
          tags,
          summary: 'A rollout and its per-asset results',
          params: idParams,
          response: { 200: rolloutResponse },
        },
      },
      async (request) => network.getRollout(request.params.id),
    );

    for (const action of ['resume', 'stop'] as const) {
      app.post(
        `/api/v1/network/rollouts/:id/${action}`,
        {
          config: { permission: 'network:apply' },
          preHandler: platformOnly,
          schema: {
            tags,
            summary:
              action === 'resume'
                ? 'Resume a stopped rollout (failed targets run again)'
                : 'Stop a running rollout after the targets in flight',
            params: idParams,
            response: { 200: rolloutResponse },
          },
        },
        async (request) =>
          action === 'resume'
            ? network.resumeRollout(contextOf(request), request.params.id)
            : network.stopRollout(contextOf(request), request.params.id),
      );
    }
  };
}
