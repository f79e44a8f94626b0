import { contextOf } from '../../http/context.js';
import type { RoutePlugin } from '../../http/types.js';
import {
  createTrackerBody,
  trackerList,
  trackerParams,
  trackerResponse,
  updateTrackerBody,
} from './tracker-admin.schemas.js';
import type { TrackerAdmin } from './tracker-admin.service.js';

const TAGS = ['integrations'];

/** Jira / ServiceNow trackers: admins read them with integrations:read, change them with integrations:write. */
export function trackerAdminRoutes(deps: { trackers: TrackerAdmin }): RoutePlugin {
  const { trackers } = deps;
  return (app) => {
    app.get(
      '/api/v1/integrations/trackers',
      {
        config: { permission: 'integrations:read' },
        schema: {
          tags: TAGS,
          summary: 'List ticket trackers (credentials never shown)',
          response: { 200: trackerList },
        },
      },
      async () => ({ trackers: await trackers.list() }),
    );

    app.get(
      '/api/v1/integrations/trackers/:name',
      {
        config: { permission: 'integrations:read' },
        schema: {
          tags: TAGS,
          summary: 'Show a ticket tracker',
          params: trackerParams,
          response: { 200: trackerResponse },
        },
      },
      async (request) => trackers.get(request.params.name),
    );

    app.post(
      '/api/v1/integrations/trackers',
      {
        config: { permission: 'integrations:write' },
        schema: {
          tags: TAGS,
          summary: 'Add a Jira or ServiceNow tracker: it owns the refs of its keys from now on (audited)',
          body: createTrackerBody,
          response: { 201: trackerResponse },
        },
      },
      async (request, reply) => reply.code(201).send(await trackers.create(contextOf(request), request.body)),
    );

    app.patch(
      '/api/v1/integrations/trackers/:name',
      {
        config: { permission: 'integrations:write' },
        schema: {
          tags: TAGS,
          summary: 'Change a tracker: URL, user, keys, API version, or replace its credential (audited)',
          params: trackerParams,
          body: updateTrackerBody,
          response: { 200: trackerResponse },
        },
      },
      async (request) => trackers.update(contextOf(request), request.params.name, request.body),
    );

    app.delete(
      '/api/v1/integrations/trackers/:name',
      {
        config: { permission: 'integrations:write' },
        schema: { tags: TAGS, summary: 'Remove a ticket tracker (audited)', params: trackerParams },
      },
      async (request, reply) => {
        await trackers.remove(contextOf(request), request.params.name);
        return reply.code(204).send();
      },
    );
  };
}
