import type { Executor } from '../../platform/db/store.js';
import { GatehouseError, NotFoundError, ValidationError } from '../../platform/errors.js';
import type { RequestContext } from '../audit/audit.types.js';
import {
  assetRecord,
  credentialContext,
  resolveGroups,
  automationContext,
  resolvePlacement,
  sealAutomationCredential,
  sealCredential,
} from './asset-records.js';
import { assetStore, type AssetFilters } from './asset.store.js';
import { assetDetails, assetGroupDetails, updateDetails } from './audit-details.js';
import { pageRequest, toPage } from './domain/paging.js';
import {
  adminCredential as adminCredentialSchema,
  automationCredential as automationCredentialSchema,
  type AdminCredential,
  type AutomationCredential,
  type Asset,
  type AssetGroup,
  type AssetListQuery,
  type CreateAssetGroupInput,
  type CreateAssetInput,
  type ListQuery,
  type Page,
  type UpdateAssetGroupInput,
  type UpdateAssetInput,
} from './inventory.schemas.js';
import { namedEntityService } from './named-entity.js';
import { storeReferences } from './references.js';
import {
  changedFields,
  requireSomeField,
  uniqueOr409,
  unknownReference,
  type InventoryServiceDeps,
} from './service-support.js';

const DATABASE_ONLY = ['engine', 'host', 'port', 'adminCredential'] as const;
const SERVER_ONLY = ['os', 'sshPort', 'automationCredential', 'hostKeys'] as const;
const UPDATE_FIELDS =
  'name, customer, environment, region, machineType, labels, groups, os, address, engine, host, port, adminCredential, sshPort, automationCredential, hostKeys';

/** Refuses fields that do not apply to the asset's kind, naming the field. */
function checkKindFields(asset: Asset, patch: UpdateAssetInput): void {
  if (asset.kind === 'server') {
    const wrong = DATABASE_ONLY.find((field) => patch[field] !== undefined);
    if (wrong) {
      throw new ValidationError(`${wrong}: applies to database assets only; '${asset.name}' is a server`, {
        details: { field: wrong },
      });
    }
    if (patch.address === null) {
      throw new ValidationError(`address: a server needs an address; send a new one instead of null`, {
        details: { field: 'address' },
      });
    }
  } else {
    const wrong = SERVER_ONLY.find((field) => patch[field] !== undefined);
    if (wrong) {
      throw new ValidationError(`${wrong}: applies to server assets only; '${asset.name}' is a database`, {
        details: { field: wrong },
      });
    }
  }
}

/**
 * Applies a PATCH to an asset inside the caller's transaction, without an audit event (the caller
 * writes one: per update, or one for a whole import). Returns the fields that really changed.
 */
export async function patchAsset(
  deps: Pick<InventoryServiceDeps, 'clock' | 'secrets'>,
  tx: Executor,
  current: Asset,
  patch: UpdateAssetInput,
): Promise<{ asset: Asset; changed: string[] }> {
  checkKindFields(current, patch);
  const { adminCredential, automationCredential, groups: groupNames, ...plain } = patch;
  const changed = changedFields(
    { ...plain, sshPort: plain.sshPort === null ? 22 : plain.sshPort, hostKeys: plain.hostKeys ?? undefined },
    current,
  );
  if (plain.hostKeys === null && current.kind === 'server' && current.hostKeys.length > 0)
    changed.push('hostKeys');
  const currentGroups = new Set(current.groups);
  const wantedGroups = groupNames ? new Set(groupNames) : undefined;
  if (
    wantedGroups &&
    (wantedGroups.size !== currentGroups.size || [...wantedGroups].some((g) => !currentGroups.has(g)))
  ) {
    changed.push('groups');
  }
  const hasCredential = current.kind === 'database' && current.hasAdminCredential;
  if (adminCredential !== undefined && (adminCredential !== null || hasCredential))
    changed.push('adminCredential');
  const hasAutomation = current.kind === 'server' && current.hasAutomationCredential;
  if (automationCredential !== undefined && (automationCredential !== null || hasAutomation))
    changed.push('automationCredential');
  if (changed.length === 0) return { asset: current, changed };

  const customer = patch.customer !== undefined ? patch.customer : current.customer;
  if (patch.environment === undefined && current.environment && customer !== current.customer) {
    throw new ValidationError(
      `environment: '${current.environment}' belongs to customer '${current.customer}'; ` +
        'send environment (a name of the new customer, or null) along with the new customer',
      { details: { field: 'environment' } },
    );
  }
  const refs = storeReferences(tx);
  const touchesPlacement = ['customer', 'environment', 'region', 'machineType'].some((f) =>
    changed.includes(f),
  );
  const placement = touchesPlacement
    ? await resolvePlacement(refs, {
        customer,
        environment: patch.environment !== undefined ? patch.environment : current.environment,
        region: patch.region ?? current.region,
        machineType: patch.machineType !== undefined ? patch.machineType : current.machineType,
      })
    : {};
  const groupIds = groupNames ? await resolveGroups(refs, groupNames) : undefined;
  await uniqueOr409(
    () =>
      assetStore.updateAsset(tx, current.id, {
        ...placement,
        name: patch.name,
        os: patch.os,
        address: patch.address,
        engine: patch.engine,
        host: patch.host,
        port: patch.port,
        labels: patch.labels,
        sealedAdminCredential:
          adminCredential === undefined
            ? undefined
            : adminCredential === null
              ? null
              : sealCredential(deps.secrets, current.id, adminCredential),
        sshPort: patch.sshPort,
        sealedAutomationCredential:
          automationCredential === undefined
            ? undefined
            : automationCredential === null
              ? null
              : sealAutomationCredential(deps.secrets, current.id, automationCredential),
        hostKeys: patch.hostKeys === undefined ? undefined : (patch.hostKeys ?? []),
        updatedAt: deps.clock.now(),
      }),
    `An asset named '${patch.name ?? current.name}' already exists; choose another name`,
  );
  if (groupIds) await assetStore.setAssetGroups(tx, current.id, groupIds);
  const asset = await assetStore.assetByRef(tx, current.id);
  return { asset: asset!, changed };
}

/** Assets and the groups they are collected in. */
export function createAssetService(deps: InventoryServiceDeps) {
  const { db } = deps.store;

  const groups = namedEntityService<AssetGroup, CreateAssetGroupInput, UpdateAssetGroupInput>(deps, {
    noun: 'asset-group',
    label: 'Asset group',
    fields: 'name, description',
    insert: assetStore.insertGroups,
    byRef: assetStore.groupByRef,
    list: assetStore.listGroups,
    update: assetStore.updateGroup,
    remove: assetStore.deleteGroup,
    build: (input) => ({ description: input.description ?? '', memberCount: 0 }),
    details: assetGroupDetails,
  });

  async function find(executor: Executor, ref: string): Promise<Asset> {
    const found = await assetStore.assetByRef(executor, ref);
    if (!found) throw new NotFoundError('Asset', ref);
    return found;
  }

  async function filtersOf(query: AssetListQuery): Promise<AssetFilters> {
    const refs = storeReferences(db);
    const lookup = async (
      field: string,
      what: string,
      name: string | undefined,
      by: (n: string) => Promise<string | undefined>,
    ) => {
      if (name === undefined) return undefined;
      const id = await by(name);
      if (!id) throw unknownReference(field, what, name);
      return id;
    };
    const customerId = await lookup('customer', 'customer', query.customer, refs.customerId);
    let environmentId: string | undefined;
    if (query.environment && customerId) {
      environmentId = (await refs.environment(customerId, query.environment))?.id;
      if (!environmentId) {
        throw new ValidationError(
          `environment: customer '${query.customer}' has no environment named '${query.environment}'`,
          { details: { field: 'environment' } },
        );
      }
    }
    const [key = '', ...rest] = (query.label ?? '').split('=');
    return {
      customerId,
      environmentId,
      environmentName: customerId ? undefined : query.environment,
      regionId: await lookup('region', 'region', query.region, refs.regionId),
      kind: query.kind,
      engine: query.engine,
      machineTypeId: await lookup('machineType', 'machine type', query.machineType, refs.machineTypeId),
      groupId: await lookup('group', 'asset group', query.group, refs.groupId),
      label: query.label ? { key, value: rest.length > 0 ? rest.join('=') : undefined } : undefined,
    };
  }

  async function listAssets(query: AssetListQuery): Promise<Page<Asset>> {
    const rows = await assetStore.listAssets(db, await filtersOf(query), pageRequest(query));
    return toPage(rows, query.limit);
  }

  return {
    createAssetGroup: groups.create,
    listAssetGroups: groups.list,
    getAssetGroup: groups.get,
    updateAssetGroup: groups.update,
    deleteAssetGroup: groups.remove,

    createAsset: async (ctx: RequestContext, input: CreateAssetInput): Promise<Asset> => {
      return db.transaction().execute(async (tx) => {
        const refs = storeReferences(tx);
        const placement = await resolvePlacement(refs, input);
        const groupIds = await resolveGroups(refs, input.groups ?? []);
        const id = deps.ids.uuid();
        const record = assetRecord(deps.secrets, input, placement, id, deps.clock.now());
        await uniqueOr409(
          () => assetStore.insertAssets(tx, [record]),
          `An asset named '${input.name}' already exists; choose another name`,
        );
        await assetStore.addMembers(
          tx,
          groupIds.map((groupId) => ({ groupId, assetId: id })),
        );
        const asset = await find(tx, id);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'asset.created',
          target: { type: 'asset', id },
          details: assetDetails(asset),
        });
        return asset;
      });
    },

    listAssets,
    getAsset: (ref: string) => find(db, ref),

    /** PATCH: fields sent replace the current ones; `null` clears; the kind never changes. */
    updateAsset: async (ctx: RequestContext, ref: string, patch: UpdateAssetInput): Promise<Asset> => {
      requireSomeField(patch, UPDATE_FIELDS);
      return db.transaction().execute(async (tx) => {
        const current = await find(tx, ref);
        const { asset, changed } = await patchAsset(deps, tx, current, patch);
        if (changed.length === 0) return current;
        await deps.audit.append(tx, {
          ...ctx,
          action: 'asset.updated',
          target: { type: 'asset', id: current.id },
          details: updateDetails(current, asset, changed),
        });
        return asset;
      });
    },

    deleteAsset: async (ctx: RequestContext, ref: string): Promise<void> => {
      await db.transaction().execute(async (tx) => {
        const current = await find(tx, ref);
        await assetStore.deleteAsset(tx, current.id);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'asset.deleted',
          target: { type: 'asset', id: current.id },
          details: assetDetails(current),
        });
      });
    },

    /**
     * The admin credential of a database asset, decrypted: for connectors that provision access.
     * Not an API route. Callers record their own use of it (the grant they provision is audited).
     */
    revealAdminCredential: async (assetRef: string, executor: Executor = db): Promise<AdminCredential> => {
      const asset = await find(executor, assetRef);
      const sealed = await assetStore.sealedAdminCredential(executor, asset.id);
      if (asset.kind !== 'database' || !sealed) {
        throw new GatehouseError(
          'precondition_failed',
          `Asset '${asset.name}' has no admin credential; set one with PATCH /api/v1/assets/${asset.name} {"adminCredential": {...}}`,
        );
      }
      return adminCredentialSchema.parse(JSON.parse(deps.secrets.open(sealed, credentialContext(asset.id))));
    },

    /**
     * The automation credential of a server, decrypted: for the linux-ssh connector. Not an API route;
     * callers record their own use of it (the grant they provision is audited).
     */
    revealAutomationCredential: async (
      assetRef: string,
      executor: Executor = db,
    ): Promise<AutomationCredential> => {
      const asset = await find(executor, assetRef);
      const sealed = await assetStore.sealedAutomationCredential(executor, asset.id);
      if (asset.kind !== 'server' || !sealed) {
        throw new GatehouseError(
          'precondition_failed',
          `Asset '${asset.name}' has no automation credential; set one with PATCH /api/v1/assets/${asset.name} {"automationCredential": {...}}`,
        );
      }
      return automationCredentialSchema.parse(
        JSON.parse(deps.secrets.open(sealed, automationContext(asset.id))),
      );
    },

    listGroupMembers: async (groupRef: string, query: ListQuery): Promise<Page<Asset>> => {
      const group = await groups.find(db, groupRef);
      return listAssets({ ...query, group: group.name });
    },

    /** Adds assets to a group; ones already in it stay. One audit event when anything was added. */
    addGroupMembers: async (
      ctx: RequestContext,
      groupRef: string,
      assetRefs: readonly string[],
    ): Promise<AssetGroup> => {
      return db.transaction().execute(async (tx) => {
        const group = await groups.find(tx, groupRef);
        const assets: Asset[] = [];
        const missing: string[] = [];
        for (const ref of new Set(assetRefs)) {
          const asset = await assetStore.assetByRef(tx, ref);
          if (asset) assets.push(asset);
          else missing.push(ref);
        }
        if (missing.length > 0) {
          throw new ValidationError(
            `assets: no asset named ${missing.map((m) => `'${m}'`).join(', ')}; check the names (nothing was added)`,
            { details: { field: 'assets', missing } },
          );
        }
        const added = await assetStore.addMembers(
          tx,
          assets.map((a) => ({ groupId: group.id, assetId: a.id })),
        );
        if (added > 0) {
          await deps.audit.append(tx, {
            ...ctx,
            action: 'asset-group.members-added',
            target: { type: 'asset-group', id: group.id },
            details: { group: group.name, assets: assets.map((a) => a.name), added },
          });
        }
        return groups.find(tx, group.id);
      });
    },

    removeGroupMember: async (ctx: RequestContext, groupRef: string, assetRef: string): Promise<void> => {
      await db.transaction().execute(async (tx) => {
        const group = await groups.find(tx, groupRef);
        const asset = await find(tx, assetRef);
        if (!(await assetStore.removeMember(tx, group.id, asset.id))) {
          throw new GatehouseError(
            'not_found',
            `Asset '${asset.name}' is not a member of asset group '${group.name}'`,
          );
        }
        await deps.audit.append(tx, {
          ...ctx,
          action: 'asset-group.member-removed',
          target: { type: 'asset-group', id: group.id },
          details: { group: group.name, asset: asset.name },
        });
      });
    },
  };
}

export type AssetService = ReturnType<typeof createAssetService>;
