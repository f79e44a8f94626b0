import { contextOf } from '../../http/context.js';
import type { RoutePlugin } from '../../http/types.js';
import {
  baselineList,
  decisionList,
  decisionListQuery,
  decisionParams,
  decisionResponse,
  recordDecisionBody,
} from './hardening.schemas.js';
import type { HardeningService } from './hardening.service.js';

const TAGS = ['hardening'];

/**
 * Hardening over HTTP: reading needs hardening:read, decisions hardening:decide, scans hardening:write
 * and changing a host hardening:apply.
 */
export function hardeningRoutes(deps: { hardening: HardeningService }): RoutePlugin {
  const { hardening } = deps;
  return (app) => {
    app.get(
      '/api/v1/hardening/baselines',
      {
        config: { permission: 'hardening:read' },
        schema: {
          tags: TAGS,
          summary: 'List the baselines (versioned files in baselines/)',
          response: { 200: baselineList },
        },
      },
      async () => ({ items: hardening.listBaselines() }),
    );

    app.get(
      '/api/v1/hardening/decisions',
      {
        config: { permission: 'hardening:read' },
        schema: {
          tags: TAGS,
          summary: 'List the decisions register (filter by baseline, rule, scope type)',
          querystring: decisionListQuery,
          response: { 200: decisionList },
        },
      },
      async (request) => ({ items: await hardening.decisions.list(request.query) }),
    );

    app.post(
      '/api/v1/hardening/decisions',
      {
        config: { permission: 'hardening:decide' },
        schema: {
          tags: TAGS,
          summary:
            'Record the decision for a rule and scope (enforced, not-applicable, or an exception with justification, approver and expiry)',
          body: recordDecisionBody,
          response: { 200: decisionResponse },
        },
      },
      async (request) => hardening.decisions.record(contextOf(request), request.body),
    );

    app.delete(
      '/api/v1/hardening/decisions/:id',
      {
        config: { permission: 'hardening:decide' },
        schema: {
          tags: TAGS,
          summary: 'Remove a decision (the rule falls back to the broader scope)',
          params: decisionParams,
        },
      },
      async (request, reply) => {
        await hardening.decisions.remove(contextOf(request), request.params.id);
        return reply.code(204).send();
      },
    );
  };
}
