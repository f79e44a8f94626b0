import { contextOf } from '../../http/context.js';
import type { RoutePlugin } from '../../http/types.js';
import { createSinkBody, sinkList, sinkParams, sinkResponse, updateSinkBody } from './forwarding.schemas.js';
import type { ForwardingService } from './forwarding.service.js';

const TAGS = ['integrations'];

/** Audit sinks (syslog, Splunk HEC): admins read them with integrations:read, change them with integrations:write. */
export function forwardingRoutes(deps: { forwarding: ForwardingService }): RoutePlugin {
  const { forwarding } = deps;
  return (app) => {
    app.get(
      '/api/v1/integrations/sinks',
      {
        config: { permission: 'integrations:read' },
        schema: {
          tags: TAGS,
          summary: 'List audit sinks with their cursor, lag and last error (tokens never shown)',
          response: { 200: sinkList },
        },
      },
      async () => ({ sinks: await forwarding.list() }),
    );

    app.get(
      '/api/v1/integrations/sinks/:name',
      {
        config: { permission: 'integrations:read' },
        schema: {
          tags: TAGS,
          summary: 'Show an audit sink',
          params: sinkParams,
          response: { 200: sinkResponse },
        },
      },
      async (request) => forwarding.get(request.params.name),
    );

    app.post(
      '/api/v1/integrations/sinks',
      {
        config: { permission: 'integrations:write' },
        schema: {
          tags: TAGS,
          summary: 'Add an audit sink: it receives every audit event from the first, in order (audited)',
          body: createSinkBody,
          response: { 201: sinkResponse },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await forwarding.create(contextOf(request), request.body)),
    );

    app.patch(
      '/api/v1/integrations/sinks/:name',
      {
        config: { permission: 'integrations:write' },
        schema: {
          tags: TAGS,
          summary: 'Enable or disable a sink, or replace its HEC token (audited)',
          params: sinkParams,
          body: updateSinkBody,
          response: { 200: sinkResponse },
        },
      },
      async (request) => forwarding.update(contextOf(request), request.params.name, request.body),
    );

    app.delete(
      '/api/v1/integrations/sinks/:name',
      {
        config: { permission: 'integrations:write' },
        schema: { tags: TAGS, summary: 'Remove an audit sink (audited)', params: sinkParams },
      },
      async (request, reply) => {
        await forwarding.remove(contextOf(request), request.params.name);
        return reply.code(204).send();
      },
    );
  };
}
