import { z } from 'zod';
import { contextOf } from '../../http/context.js';
import type { App, RequestContext, RoutePlugin } from '../../http/types.js';
import { NotFoundError } from '../../platform/errors.js';
import {
  areaBody,
  catalogResponse,
  cellBody,
  cellParams,
  controlBody,
  gapBody,
  importBody,
  importResponse,
  keyParams,
  matrixResponse,
  storyBody,
  threatModelBody,
  threatModelResponse,
} from './compliance.schemas.js';
import type { ComplianceService } from './compliance.service.js';
import { catalogRef } from './domain/catalog.js';
import { areaSchema, cellSchema, controlSchema, gapSchema, storySchema } from './domain/matrix.js';
import type { MatrixList } from './compliance.store.js';
import type { ThreatModelService } from './threat-model.service.js';

const TAGS = ['compliance'];
const BASE = '/api/v1/compliance';
const deleted = { 204: z.null().describe('Deleted') };

export interface ComplianceRouteDeps {
  compliance: ComplianceService;
  threatModels: ThreatModelService;
}

/** One list of the matrix (areas, gaps, stories, controls): list, show, put by key, delete. */
function entryRoutes(
  app: App,
  compliance: ComplianceService,
  list: MatrixList,
  body: z.ZodType,
  response: z.ZodType,
  put: (ctx: RequestContext, entry: never) => Promise<unknown>,
): void {
  app.get(
    `${BASE}/${list}`,
    {
      config: { permission: 'compliance:read' },
      schema: { tags: TAGS, summary: `List the ${list}, by key`, response: { 200: z.array(response) } },
    },
    async () => (await compliance.matrix())[list],
  );
  app.get(
    `${BASE}/${list}/:key`,
    {
      config: { permission: 'compliance:read' },
      schema: {
        tags: TAGS,
        summary: `Show one of the ${list}`,
        params: keyParams,
        response: { 200: response },
      },
    },
    async (request) => {
      const found = ((await compliance.matrix())[list] as { key: string }[]).find(
        (e) => e.key === request.params.key,
      );
      if (!found) throw new NotFoundError(list, request.params.key);
      return found;
    },
  );
  app.put(
    `${BASE}/${list}/:key`,
    {
      config: { permission: 'compliance:write' },
      schema: {
        tags: TAGS,
        summary: `Create or replace one of the ${list} (checked against the whole matrix)`,
        params: keyParams,
        body,
        response: { 200: response },
      },
    },
    async (request) =>
      put(contextOf(request), { ...(request.body as object), key: request.params.key } as never),
  );
  app.delete(
    `${BASE}/${list}/:key`,
    {
      config: { permission: 'compliance:write' },
      schema: {
        tags: TAGS,
        summary: `Delete one of the ${list} no longer referenced`,
        params: keyParams,
        response: deleted,
      },
    },
    async (request, reply) => {
      await compliance.remove(contextOf(request), list, request.params.key);
      return reply.code(204).send(null);
    },
  );
}

/** The SOC 2 workbench over HTTP: reads need compliance:read, every change compliance:write. */
export function complianceRoutes(deps: ComplianceRouteDeps): RoutePlugin {
  const { compliance, threatModels } = deps;
  return (app) => {
    app.get(
      `${BASE}/catalog`,
      {
        config: { permission: 'compliance:read' },
        schema: {
          tags: TAGS,
          summary: 'The criteria catalog, components and default areas',
          response: { 200: catalogResponse },
        },
      },
      async () => compliance.catalog(),
    );

    app.get(
      `${BASE}/matrix`,
      {
        config: { permission: 'compliance:read' },
        schema: {
          tags: TAGS,
          summary: 'The whole matrix (cells not listed are applicable, not assessed)',
          response: { 200: matrixResponse },
        },
      },
      async () => ({ catalog: catalogRef(compliance.catalog()), ...(await compliance.matrix()) }),
    );

    app.get(
      `${BASE}/matrix/export`,
      {
        config: { permission: 'compliance:read' },
        schema: { tags: TAGS, summary: 'The matrix as a YAML document (to keep in git)' },
      },
      async (_request, reply) =>
        reply.type('application/yaml; charset=utf-8').send(await compliance.exportYaml()),
    );

    app.post(
      `${BASE}/matrix/import`,
      {
        config: { permission: 'compliance:write' },
        schema: {
          tags: TAGS,
          summary: 'Make the matrix equal to a YAML document; any problem (with its line) changes nothing',
          body: importBody,
          response: { 200: importResponse },
        },
      },
      async (request) => compliance.importYaml(contextOf(request), request.body.yaml),
    );

    app.get(
      `${BASE}/cells/:criterion/:component`,
      {
        config: { permission: 'compliance:read' },
        schema: {
          tags: TAGS,
          summary: 'One criterion × component cell',
          params: cellParams,
          response: { 200: cellSchema },
        },
      },
      async (request) => compliance.cell(request.params.criterion, request.params.component),
    );

    app.put(
      `${BASE}/cells/:criterion/:component`,
      {
        config: { permission: 'compliance:write' },
        schema: {
          tags: TAGS,
          summary: 'Assess a cell: applicable, status, notes',
          params: cellParams,
          body: cellBody,
          response: { 200: cellSchema },
        },
      },
      async (request) => compliance.putCell(contextOf(request), { ...request.params, ...request.body }),
    );

    entryRoutes(app, compliance, 'areas', areaBody, areaSchema, compliance.putArea);
    entryRoutes(app, compliance, 'gaps', gapBody, gapSchema, compliance.putGap);
    entryRoutes(app, compliance, 'stories', storyBody, storySchema, compliance.putStory);
    entryRoutes(app, compliance, 'controls', controlBody, controlSchema, compliance.putControl);

    app.get(
      `${BASE}/threat-models`,
      {
        config: { permission: 'compliance:read' },
        schema: {
          tags: TAGS,
          summary: 'List threat models',
          response: { 200: z.array(threatModelResponse) },
        },
      },
      async () => threatModels.list(),
    );
    app.get(
      `${BASE}/threat-models/:key`,
      {
        config: { permission: 'compliance:read' },
        schema: {
          tags: TAGS,
          summary: 'Show a threat model',
          params: keyParams,
          response: { 200: threatModelResponse },
        },
      },
      async (request) => threatModels.get(request.params.key),
    );
    app.put(
      `${BASE}/threat-models/:key`,
      {
        config: { permission: 'compliance:write' },
        schema: {
          tags: TAGS,
          summary: 'Create or replace a threat model (as a draft: a change withdraws an approval)',
          params: keyParams,
          body: threatModelBody,
          response: { 200: threatModelResponse },
        },
      },
      async (request) => threatModels.put(contextOf(request), request.params.key, request.body),
    );
    app.post(
      `${BASE}/threat-models/:key/approve`,
      {
        config: { permission: 'compliance:write' },
        schema: {
          tags: TAGS,
          summary: 'Approve a threat model (refused while a high threat has no mitigation)',
          params: keyParams,
          response: { 200: threatModelResponse },
        },
      },
      async (request) => threatModels.approve(contextOf(request), request.params.key),
    );
  };
}
