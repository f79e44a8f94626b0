import { z } from 'zod';
import { contextOf } from '../../http/context.js';
import type { App, RequestContext } from '../../http/types.js';
import { pageOf, ref, type Page } from './inventory.schemas.js';

/** What an inventory collection offers over HTTP: list, create, show, change, delete. */
export interface CrudSpec<
  C extends z.ZodType,
  U extends z.ZodType,
  Q extends z.ZodType,
  R extends z.ZodType,
> {
  /** Collection path, like /api/v1/regions. */
  path: string;
  /** 'region' / 'regions', for summaries. */
  one: string;
  many: string;
  createBody: C;
  updateBody: U;
  listQuery: Q;
  response: R;
  create(ctx: RequestContext, input: z.output<C>): Promise<z.input<R>>;
  list(query: z.output<Q>): Promise<Page<z.input<R>>>;
  get(ref: string): Promise<z.input<R>>;
  update(ctx: RequestContext, ref: string, patch: z.output<U>): Promise<z.input<R>>;
  remove(ctx: RequestContext, ref: string): Promise<void>;
  /** Extra words for the create summary. */
  createNote?: string;
}

export const TAGS = ['inventory'];
export const refParams = z.object({ ref: ref.describe('Id or name') });
export const deleted = { 204: z.null().describe('Deleted') };

/** The five routes of one collection; reads need inventory:read, changes inventory:write. */
export function crudRoutes<
  C extends z.ZodType,
  U extends z.ZodType,
  Q extends z.ZodType,
  R extends z.ZodType,
>(app: App, spec: CrudSpec<C, U, Q, R>): void {
  const item = `${spec.path}/:ref`;
  // widened on purpose: the type provider cannot resolve generic schemas; they still check at run time
  const response: z.ZodType = spec.response;
  const createBody: z.ZodType = spec.createBody;
  const updateBody: z.ZodType = spec.updateBody;
  const listQuery: z.ZodType = spec.listQuery;
  app.get(
    spec.path,
    {
      config: { permission: 'inventory:read' },
      schema: {
        tags: TAGS,
        summary: `List ${spec.many}, by name, a page at a time`,
        querystring: listQuery,
        response: { 200: pageOf(response) },
      },
    },
    async (request) => spec.list(request.query as z.output<Q>),
  );

  app.post(
    spec.path,
    {
      config: { permission: 'inventory:write' },
      schema: {
        tags: TAGS,
        summary: `Create a ${spec.one}${spec.createNote ? ` (${spec.createNote})` : ''}`,
        body: createBody,
        response: { 201: response },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await spec.create(contextOf(request), request.body as z.output<C>)),
  );

  app.get(
    item,
    {
      config: { permission: 'inventory:read' },
      schema: {
        tags: TAGS,
        summary: `Show a ${spec.one} by id or name`,
        params: refParams,
        response: { 200: response },
      },
    },
    async (request) => spec.get(request.params.ref),
  );

  app.patch(
    item,
    {
      config: { permission: 'inventory:write' },
      schema: {
        tags: TAGS,
        summary: `Change a ${spec.one}: only the fields sent change`,
        params: refParams,
        body: updateBody,
        response: { 200: response },
      },
    },
    async (request) => spec.update(contextOf(request), request.params.ref, request.body as z.output<U>),
  );

  app.delete(
    item,
    {
      config: { permission: 'inventory:write' },
      schema: {
        tags: TAGS,
        summary: `Delete a ${spec.one} (refused while something still uses it)`,
        params: refParams,
        response: deleted,
      },
    },
    async (request, reply) => {
      await spec.remove(contextOf(request), request.params.ref);
      return reply.code(204).send(null);
    },
  );
}
