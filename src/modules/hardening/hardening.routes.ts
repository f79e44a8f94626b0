import { contextOf } from '../../http/context.js';
import type { RoutePlugin } from '../../http/types.js';
import {
  applyBody,
  applyResponse,
  baselineList,
  decisionList,
  decisionListQuery,
  decisionParams,
  decisionResponse,
  documentQuery,
  recordDecisionBody,
  scanBody,
  scanDetailResponse,
  scanList,
  scanListQuery,
  scanParams,
  scoreQuery,
  scoreResponse,
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

    app.post(
      '/api/v1/hardening/scans',
      {
        config: { permission: 'hardening:write' },
        schema: {
          tags: TAGS,
          summary:
            'Scan one asset, a machine type, a customer or every server against a baseline (one read-only script per host)',
          body: scanBody,
          response: { 200: scanList },
        },
      },
      async (request) => ({ items: await hardening.scans.scan(contextOf(request), request.body) }),
    );

    app.get(
      '/api/v1/hardening/scans',
      {
        config: { permission: 'hardening:read' },
        schema: {
          tags: TAGS,
          summary: 'Recent scans, newest first (filter by asset and baseline)',
          querystring: scanListQuery,
          response: { 200: scanList },
        },
      },
      async (request) => ({ items: await hardening.scans.list(request.query) }),
    );

    app.get(
      '/api/v1/hardening/scans/:id',
      {
        config: { permission: 'hardening:read' },
        schema: {
          tags: TAGS,
          summary: 'A scan with every rule result, its decision and what was observed',
          params: scanParams,
          response: { 200: scanDetailResponse },
        },
      },
      async (request) => hardening.scans.get(request.params.id),
    );

    app.get(
      '/api/v1/hardening/scores',
      {
        config: { permission: 'hardening:read' },
        schema: {
          tags: TAGS,
          summary: 'Scores from the latest scan of each host: per host, machine type, customer and fleet',
          querystring: scoreQuery,
          response: { 200: scoreResponse },
        },
      },
      async (request) => hardening.scores(request.query.baseline),
    );

    app.post(
      '/api/v1/hardening/apply',
      {
        config: { permission: 'hardening:apply' },
        schema: {
          tags: TAGS,
          summary:
            'Plan (dryRun, the default) or apply the remediation of the failing enforced rules of a baseline on one server',
          body: applyBody,
          response: { 200: applyResponse },
        },
      },
      async (request) => hardening.templates.apply(contextOf(request), request.body),
    );

    app.get(
      '/api/v1/hardening/document',
      {
        config: { permission: 'hardening:read' },
        schema: {
          tags: TAGS,
          summary:
            'The hardening document: every recommendation, configured or not and why, with the latest results (Markdown or HTML)',
          querystring: documentQuery,
        },
      },
      async (request, reply) => {
        const { baseline, machineType, format } = request.query;
        const text = await hardening.document(baseline, machineType, format);
        return reply
          .type(format === 'html' ? 'text/html; charset=utf-8' : 'text/markdown; charset=utf-8')
          .send(text);
      },
    );
  };
}
