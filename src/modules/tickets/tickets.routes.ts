import { contextOf } from '../../http/context.js';
import type { RoutePlugin } from '../../http/types.js';
import {
  createTicketBody,
  ticketListQuery,
  ticketPage,
  ticketParams,
  ticketResponse,
  transitionTicketBody,
  updateTicketBody,
} from './tickets.schemas.js';
import type { TicketService } from './tickets.service.js';

const TAGS = ['tickets'];

/** Built-in tickets over HTTP: reads need tickets:read, every change tickets:write. */
export function ticketRoutes(deps: { tickets: TicketService }): RoutePlugin {
  const { tickets } = deps;
  return (app) => {
    app.get(
      '/api/v1/tickets',
      {
        config: { permission: 'tickets:read' },
        schema: {
          tags: TAGS,
          summary: 'List tickets, newest first (filter by state, assignee, text in the ref or title)',
          querystring: ticketListQuery,
          response: { 200: ticketPage },
        },
      },
      async (request) => tickets.list(request.query),
    );

    app.post(
      '/api/v1/tickets',
      {
        config: { permission: 'tickets:write' },
        schema: {
          tags: TAGS,
          summary: "Open a ticket (its ref is the project's next number unless given)",
          body: createTicketBody,
          response: { 201: ticketResponse },
        },
      },
      async (request, reply) => reply.code(201).send(await tickets.create(contextOf(request), request.body)),
    );

    app.get(
      '/api/v1/tickets/:ref',
      {
        config: { permission: 'tickets:read' },
        schema: {
          tags: TAGS,
          summary: 'Show a ticket by ref or id',
          params: ticketParams,
          response: { 200: ticketResponse },
        },
      },
      async (request) => tickets.get(request.params.ref),
    );

    app.patch(
      '/api/v1/tickets/:ref',
      {
        config: { permission: 'tickets:write' },
        schema: {
          tags: TAGS,
          summary: 'Change the title, description or assignee: only the fields sent change',
          params: ticketParams,
          body: updateTicketBody,
          response: { 200: ticketResponse },
        },
      },
      async (request) => tickets.update(contextOf(request), request.params.ref, request.body),
    );

    app.post(
      '/api/v1/tickets/:ref/close',
      {
        config: { permission: 'tickets:write' },
        schema: {
          tags: TAGS,
          summary: 'Close an open ticket (access granted under it may be revoked, per policy)',
          params: ticketParams,
          body: transitionTicketBody,
          response: { 200: ticketResponse },
        },
      },
      async (request) => tickets.close(contextOf(request), request.params.ref, request.body ?? {}),
    );

    app.post(
      '/api/v1/tickets/:ref/reopen',
      {
        config: { permission: 'tickets:write' },
        schema: {
          tags: TAGS,
          summary: 'Reopen a closed ticket',
          params: ticketParams,
          body: transitionTicketBody,
          response: { 200: ticketResponse },
        },
      },
      async (request) => tickets.reopen(contextOf(request), request.params.ref, request.body ?? {}),
    );
  };
}
