import { z } from 'zod';
import { contextOf, principalOf } from '../../http/context.js';
import type { RoutePlugin } from '../../http/types.js';
import {
  createRequestBody,
  credentialResponse,
  extendBody,
  extensionListQuery,
  extensionResponse,
  grantListQuery,
  grantResponse,
  idParams,
  pageOf,
  policySetBody,
  policySetResponse,
  policySummaryResponse,
  previewRequestBody,
  previewResponse,
  requestListQuery,
  requestResponse,
  reviewBody,
  revokeBody,
  sweepBody,
  sweepResponse,
} from './access.schemas.js';
import type { AccessService } from './access.service.js';

/**
 * Just-in-time access over HTTP: requests and their reviews, grants and their credential, the orphan
 * sweeper, and the policy set. Routes parse, call the service and shape the answer; the service
 * decides and audits.
 */
export function accessRoutes(deps: { access: AccessService }): RoutePlugin {
  const { access } = deps;
  const tags = ['access'];
  return (app) => {
    app.post(
      '/api/v1/access/requests',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary:
            'Ask for access to an asset: decided by the policies (refused, auto-approved, or to be reviewed)',
          body: createRequestBody,
          response: { 201: requestResponse },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await access.createRequest(contextOf(request), principalOf(request), request.body)),
    );

    app.post(
      '/api/v1/access/requests/preview',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary:
            'What the policies would decide for a request, before it is made: allowed or why not, maximum duration, approvals, auto-approval, break-glass (changes nothing)',
          body: previewRequestBody,
          response: { 200: previewResponse },
        },
      },
      async (request) => access.previewRequest(principalOf(request), request.body),
    );

    app.get(
      '/api/v1/access/requests',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary: 'List access requests, newest first (your own, or everyone’s for reviewers and admins)',
          querystring: requestListQuery,
          response: { 200: pageOf(requestResponse) },
        },
      },
      async (request) => access.listRequests(principalOf(request), request.query),
    );

    app.get(
      '/api/v1/access/requests/:id',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary: 'One access request, its reviews and its grant',
          params: idParams,
          response: { 200: requestResponse },
        },
      },
      async (request) => access.getRequest(principalOf(request), request.params.id),
    );

    for (const verdict of ['approve', 'deny'] as const) {
      app.post(
        `/api/v1/access/requests/:id/${verdict}`,
        {
          config: { permission: 'access:review' },
          schema: {
            tags,
            summary:
              verdict === 'approve'
                ? 'Approve a request (not your own); it is granted once enough approvers agree'
                : 'Deny a request, with a comment; after issue this revokes the grant',
            params: idParams,
            body: reviewBody,
            response: { 200: requestResponse },
          },
        },
        async (request) =>
          access[verdict](contextOf(request), principalOf(request), request.params.id, request.body.comment),
      );
    }

    app.post(
      '/api/v1/access/requests/:id/cancel',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary: 'Withdraw a request not yet issued (requester or admin)',
          params: idParams,
          response: { 200: requestResponse },
        },
      },
      async (request) => access.cancel(contextOf(request), principalOf(request), request.params.id),
    );

    app.get(
      '/api/v1/grants',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary: 'List grants, newest first (your own, or everyone’s for reviewers and admins)',
          querystring: grantListQuery,
          response: { 200: pageOf(grantResponse) },
        },
      },
      async (request) => access.listGrants(principalOf(request), request.query),
    );

    app.get(
      '/api/v1/grants/:id',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary: 'One grant: its account, lease and state',
          params: idParams,
          response: { 200: grantResponse },
        },
      },
      async (request) => access.getGrant(principalOf(request), request.params.id),
    );

    app.get(
      '/api/v1/grants/:id/credential',
      {
        // a password: only to a caller on a jumpbox, and attempts from one address are limited
        config: { permission: 'access:request', secret: true, rateLimited: true },
        schema: {
          tags,
          summary:
            'Reveal the password, once, to the holder (audited); afterwards says when and by whom it was revealed',
          params: idParams,
          response: { 200: credentialResponse },
        },
      },
      async (request, reply) => {
        const credential = await access.revealCredential(
          contextOf(request),
          principalOf(request),
          request.params.id,
        );
        return reply.header('cache-control', 'no-store').send(credential);
      },
    );

    app.post(
      '/api/v1/grants/:id/revoke',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary: 'End a grant now (its holder or an admin)',
          params: idParams,
          body: revokeBody,
          response: { 200: grantResponse },
        },
      },
      async (request) =>
        access.revokeGrant(contextOf(request), principalOf(request), request.params.id, request.body.reason),
    );

    app.post(
      '/api/v1/grants/:id/extend',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary:
            'Ask for more time on your running grant: decided by the policies again for the total from its start; approved at once or sent for review',
          params: idParams,
          body: extendBody,
          response: { 201: extensionResponse },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await access.requestExtension(
              contextOf(request),
              principalOf(request),
              request.params.id,
              request.body,
            ),
          ),
    );

    app.get(
      '/api/v1/access/extensions',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary:
            'List grant extensions, newest first (your own, or everyone’s for reviewers and admins); status=pending-approval for those awaiting review',
          querystring: extensionListQuery,
          response: { 200: pageOf(extensionResponse) },
        },
      },
      async (request) => access.listExtensions(principalOf(request), request.query),
    );

    app.get(
      '/api/v1/access/extensions/:id',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary: 'One grant extension, its reviews and its grant',
          params: idParams,
          response: { 200: extensionResponse },
        },
      },
      async (request) => access.getExtension(principalOf(request), request.params.id),
    );

    for (const verdict of ['approve', 'deny'] as const) {
      app.post(
        `/api/v1/access/extensions/:id/${verdict}`,
        {
          config: { permission: 'access:review' },
          schema: {
            tags,
            summary:
              verdict === 'approve'
                ? 'Approve an extension (not your own); the grant runs longer once enough approvers agree'
                : 'Deny an extension, with a comment; the grant keeps its end',
            params: idParams,
            body: reviewBody,
            response: { 200: extensionResponse },
          },
        },
        async (request) => {
          const review = verdict === 'approve' ? access.approveExtension : access.denyExtension;
          return review(contextOf(request), principalOf(request), request.params.id, request.body.comment);
        },
      );
    }

    app.post(
      '/api/v1/access/extensions/:id/cancel',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary: 'Withdraw an extension awaiting review (its requester or an admin)',
          params: idParams,
          response: { 200: extensionResponse },
        },
      },
      async (request) => access.cancelExtension(contextOf(request), principalOf(request), request.params.id),
    );

    app.post(
      '/api/v1/access/sweep',
      {
        config: { permission: 'access:admin' },
        schema: {
          tags,
          summary: 'Run the orphan sweeper now: remove Gatehouse accounts no live grant accounts for',
          body: sweepBody,
          response: { 200: sweepResponse },
        },
      },
      async (request) => access.sweep(contextOf(request), request.body.prefix),
    );

    app.get(
      '/api/v1/access/policies',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary: 'The access policy set in force, as written',
          response: { 200: policySetResponse },
        },
      },
      async () => access.policies.show(),
    );

    app.post(
      '/api/v1/access/policies',
      {
        config: { permission: 'access:admin' },
        schema: {
          tags,
          summary:
            'Apply a policy set: it replaces the one in force as a new version (audited); see docs/access-policies.md',
          body: policySetBody,
          response: { 200: policySetResponse.extend({ changed: z.boolean() }) },
        },
      },
      async (request) => {
        const { comment, ...document } = request.body;
        return access.policies.apply(contextOf(request), document, comment);
      },
    );

    app.post(
      '/api/v1/access/policies/validate',
      {
        config: { permission: 'access:request' },
        schema: {
          tags,
          summary: 'Check a policy set without applying it',
          body: policySetBody,
          response: { 200: z.object({ valid: z.literal(true), policies: z.array(policySummaryResponse) }) },
        },
      },
      async (request) => {
        const { comment: _comment, ...document } = request.body;
        return access.policies.validate(document);
      },
    );
  };
}
