import { z } from 'zod';
import { contextOf } from '../../http/context.js';
import type { RoutePlugin } from '../../http/types.js';
import { crudRoutes, deleted, TAGS } from './crud-routes.js';
import { importBody, importResponse } from './import.schemas.js';
import {
  assetGroupResponse,
  assetListQuery,
  assetResponse,
  createAssetBody,
  createAssetGroupBody,
  createCustomerBody,
  createEnvironmentBody,
  createJumpboxBody,
  createMachineTypeBody,
  createRegionBody,
  customerResponse,
  environmentListQuery,
  environmentResponse,
  groupMembersBody,
  jumpboxListQuery,
  jumpboxResponse,
  listQuery,
  machineTypeResponse,
  pageOf,
  ref,
  regionResponse,
  updateAssetBody,
  updateAssetGroupBody,
  updateCustomerBody,
  updateEnvironmentBody,
  updateJumpboxBody,
  updateMachineTypeBody,
  updateRegionBody,
} from './inventory.schemas.js';
import type { InventoryService } from './inventory.service.js';

const customerParams = z.object({ customer: ref.describe('Customer id or name') });
const environmentParams = customerParams.extend({ environment: ref.describe('Environment id or name') });
const groupParams = z.object({ group: ref.describe('Asset group id or name') });
const memberParams = groupParams.extend({ asset: ref.describe('Asset id or name') });

export function inventoryRoutes(deps: { inventory: InventoryService }): RoutePlugin {
  const { inventory: inv } = deps;
  return (app) => {
    crudRoutes(app, {
      path: '/api/v1/regions',
      one: 'region',
      many: 'regions',
      createBody: createRegionBody,
      updateBody: updateRegionBody,
      listQuery,
      response: regionResponse,
      create: inv.createRegion,
      list: inv.listRegions,
      get: inv.getRegion,
      update: inv.updateRegion,
      remove: inv.deleteRegion,
    });

    crudRoutes(app, {
      path: '/api/v1/customers',
      one: 'customer',
      many: 'customers',
      createBody: createCustomerBody,
      updateBody: updateCustomerBody,
      listQuery,
      response: customerResponse,
      create: inv.createCustomer,
      list: inv.listCustomers,
      get: inv.getCustomer,
      update: inv.updateCustomer,
      remove: inv.deleteCustomer,
    });

    crudRoutes(app, {
      path: '/api/v1/machine-types',
      one: 'machine type',
      many: 'machine types',
      createBody: createMachineTypeBody,
      updateBody: updateMachineTypeBody,
      listQuery,
      response: machineTypeResponse,
      create: inv.createMachineType,
      list: inv.listMachineTypes,
      get: inv.getMachineType,
      update: inv.updateMachineType,
      remove: inv.deleteMachineType,
    });

    crudRoutes(app, {
      path: '/api/v1/asset-groups',
      one: 'asset group',
      many: 'asset groups',
      createBody: createAssetGroupBody,
      updateBody: updateAssetGroupBody,
      listQuery,
      response: assetGroupResponse,
      create: inv.createAssetGroup,
      list: inv.listAssetGroups,
      get: inv.getAssetGroup,
      update: inv.updateAssetGroup,
      remove: inv.deleteAssetGroup,
    });

    crudRoutes(app, {
      path: '/api/v1/assets',
      one: 'asset',
      many: 'assets (filter by customer, environment, region, kind, engine, machine type, group, label)',
      createNote: 'a server, or a database whose admin credential is sealed on arrival',
      createBody: createAssetBody,
      updateBody: updateAssetBody,
      listQuery: assetListQuery,
      response: assetResponse,
      create: inv.createAsset,
      list: inv.listAssets,
      get: inv.getAsset,
      update: inv.updateAsset,
      remove: inv.deleteAsset,
    });

    crudRoutes(app, {
      path: '/api/v1/jumpboxes',
      one: 'jumpbox',
      many: 'jumpboxes',
      createBody: createJumpboxBody,
      updateBody: updateJumpboxBody,
      listQuery: jumpboxListQuery,
      response: jumpboxResponse,
      create: inv.createJumpbox,
      list: inv.listJumpboxes,
      get: inv.getJumpbox,
      update: inv.updateJumpbox,
      remove: inv.deleteJumpbox,
    });

    // environments belong to a customer: their names are unique within it
    const environments = '/api/v1/customers/:customer/environments';
    app.get(
      environments,
      {
        config: { permission: 'inventory:read' },
        schema: {
          tags: TAGS,
          summary: "List a customer's environments",
          params: customerParams,
          querystring: environmentListQuery,
          response: { 200: pageOf(environmentResponse) },
        },
      },
      async (request) => inv.listEnvironments(request.params.customer, request.query),
    );

    app.post(
      environments,
      {
        config: { permission: 'inventory:write' },
        schema: {
          tags: TAGS,
          summary: 'Create an environment of a customer',
          params: customerParams,
          body: createEnvironmentBody,
          response: { 201: environmentResponse },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await inv.createEnvironment(contextOf(request), request.params.customer, request.body)),
    );

    app.get(
      `${environments}/:environment`,
      {
        config: { permission: 'inventory:read' },
        schema: {
          tags: TAGS,
          summary: 'Show an environment',
          params: environmentParams,
          response: { 200: environmentResponse },
        },
      },
      async (request) => inv.getEnvironment(request.params.customer, request.params.environment),
    );

    app.patch(
      `${environments}/:environment`,
      {
        config: { permission: 'inventory:write' },
        schema: {
          tags: TAGS,
          summary: 'Change an environment: only the fields sent change',
          params: environmentParams,
          body: updateEnvironmentBody,
          response: { 200: environmentResponse },
        },
      },
      async (request) =>
        inv.updateEnvironment(
          contextOf(request),
          request.params.customer,
          request.params.environment,
          request.body,
        ),
    );

    app.delete(
      `${environments}/:environment`,
      {
        config: { permission: 'inventory:write' },
        schema: {
          tags: TAGS,
          summary: 'Delete an environment (refused while it holds assets)',
          params: environmentParams,
          response: deleted,
        },
      },
      async (request, reply) => {
        await inv.deleteEnvironment(contextOf(request), request.params.customer, request.params.environment);
        return reply.code(204).send(null);
      },
    );

    const members = '/api/v1/asset-groups/:group/members';
    app.get(
      members,
      {
        config: { permission: 'inventory:read' },
        schema: {
          tags: TAGS,
          summary: 'List the assets in a group',
          params: groupParams,
          querystring: listQuery,
          response: { 200: pageOf(assetResponse) },
        },
      },
      async (request) => inv.listGroupMembers(request.params.group, request.query),
    );

    app.post(
      members,
      {
        config: { permission: 'inventory:write' },
        schema: {
          tags: TAGS,
          summary: 'Add assets to a group (ones already in it stay)',
          params: groupParams,
          body: groupMembersBody,
          response: { 200: assetGroupResponse },
        },
      },
      async (request) => inv.addGroupMembers(contextOf(request), request.params.group, request.body.assets),
    );

    app.delete(
      `${members}/:asset`,
      {
        config: { permission: 'inventory:write' },
        schema: {
          tags: TAGS,
          summary: 'Remove an asset from a group',
          params: memberParams,
          response: deleted,
        },
      },
      async (request, reply) => {
        await inv.removeGroupMember(contextOf(request), request.params.group, request.params.asset);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/inventory/import',
      {
        config: { permission: 'inventory:write' },
        schema: {
          tags: TAGS,
          summary: 'Bulk import from JSON or CSV: all rows or none (see docs/inventory-import.md)',
          description:
            'Send `{format, entity?, content}` or the lists themselves (`{regions: […], assets: […], …}`). ' +
            'Every bad row is reported in the 400 error as `details.errors[]` = `{entity, row, name?, field, message}`, ' +
            'and nothing is imported. `dryRun: true` checks without changing anything; `mode: "upsert"` updates existing names.',
          body: importBody,
          response: { 200: importResponse },
        },
      },
      async (request) => inv.importInventory(contextOf(request), request.body),
    );
  };
}
