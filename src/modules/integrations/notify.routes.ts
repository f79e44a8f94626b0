import { z } from 'zod';
import { contextOf, principalOf } from '../../http/context.js';
import type { RoutePlugin } from '../../http/types.js';
import {
  channelParams,
  channelResponse,
  createChannelBody,
  deliveryListQuery,
  deliveryPage,
  deliveryParams,
  deliveryResponse,
  preferencesBody,
  preferencesResponse,
} from './notify.schemas.js';
import type { NotifyService } from './notify.service.js';

const TAGS = ['integrations'];

/** Notification channels and the dead-letter list (admins), and each operator's own preferences. */
export function notifyRoutes(deps: { notify: NotifyService }): RoutePlugin {
  const { notify } = deps;
  return (app) => {
    app.get(
      '/api/v1/integrations/channels',
      {
        config: { permission: 'integrations:read' },
        schema: {
          tags: TAGS,
          summary: 'List notification channels (secrets never shown)',
          response: { 200: z.object({ channels: z.array(channelResponse) }) },
        },
      },
      async () => ({ channels: await notify.listChannels() }),
    );

    app.post(
      '/api/v1/integrations/channels',
      {
        config: { permission: 'integrations:write' },
        schema: {
          tags: TAGS,
          summary: 'Add a channel: email (SMTP), slack, teams or a signed webhook (audited)',
          body: createChannelBody,
          response: { 201: channelResponse },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await notify.createChannel(contextOf(request), request.body)),
    );

    app.delete(
      '/api/v1/integrations/channels/:name',
      {
        config: { permission: 'integrations:write' },
        schema: { tags: TAGS, summary: 'Remove a channel (audited)', params: channelParams },
      },
      async (request, reply) => {
        await notify.removeChannel(contextOf(request), request.params.name);
        return reply.code(204).send();
      },
    );

    app.get(
      '/api/v1/integrations/notifications',
      {
        config: { permission: 'integrations:read' },
        schema: {
          tags: TAGS,
          summary: 'Notifications by state, newest first; by default the dead-letter list',
          querystring: deliveryListQuery,
          response: { 200: deliveryPage },
        },
      },
      async (request) => notify.listDeliveries(request.query),
    );

    app.post(
      '/api/v1/integrations/notifications/:id/retry',
      {
        config: { permission: 'integrations:write' },
        schema: {
          tags: TAGS,
          summary: 'Send a dead-lettered notification again (audited)',
          params: deliveryParams,
          response: { 200: deliveryResponse },
        },
      },
      async (request) => notify.retry(contextOf(request), request.params.id),
    );

    app.get(
      '/api/v1/integrations/preferences',
      {
        config: { permission: 'authenticated' },
        schema: {
          tags: TAGS,
          summary: 'Your notification preferences: the notices you do not want by email',
          response: { 200: preferencesResponse },
        },
      },
      async (request) => notify.preferences(principalOf(request).operatorId),
    );

    app.put(
      '/api/v1/integrations/preferences',
      {
        config: { permission: 'authenticated' },
        schema: {
          tags: TAGS,
          summary: 'Set the notices you do not want by email (audited)',
          body: preferencesBody,
          response: { 200: preferencesResponse },
        },
      },
      async (request) =>
        notify.setPreferences(contextOf(request), principalOf(request).operatorId, request.body.muted),
    );
  };
}
