import { sha256Hex } from '../../platform/crypto.js';
import { pgErrorCode, PgCode, type Tx } from '../../platform/db/store.js';
import { ConflictError, GatehouseError, ValidationError } from '../../platform/errors.js';
import type { AuditEventInput, RequestContext } from '../audit/audit.types.js';
import { assetRecord, resolveGroups, resolvePlacement } from './asset-records.js';
import { patchAsset } from './asset.service.js';
import { assetStore, type AssetRecord } from './asset.store.js';
import {
  assetDetails,
  assetGroupDetails,
  customerDetails,
  environmentDetails,
  environmentUpdateDetails,
  jumpboxDetails,
  machineTypeDetails,
  regionDetails,
  updateDetails,
} from './audit-details.js';
import {
  byPosition,
  importEntities,
  mentionedNames,
  planImport,
  readImportSource,
  type ImportEntity,
  type ImportError,
  type ImportPlan,
  type PlannedRow,
} from './domain/import.js';
import type { ImportCounts, ImportRequest, ImportResult } from './import.schemas.js';
import { inventoryStore } from './inventory.store.js';
import type { Asset, Environment, Jumpbox } from './inventory.schemas.js';
import { jumpboxStore } from './jumpbox.store.js';
import { environmentKey, mapReferences, type ReferenceMaps } from './references.js';
import { changedFields, type InventoryServiceDeps } from './service-support.js';

/** Errors listed in the message itself; all of them are in details.errors. */
const ERRORS_IN_MESSAGE = 5;
/** Names per entity recorded in the audit event (the counts are always complete). */
const NAMES_IN_AUDIT = 100;

/** One object's event, as its own route would write it; the import adds who, and its own id. */
type ObjectEvent = Required<Pick<AuditEventInput, 'action' | 'target' | 'details'>>;

const zeroCounts = (): ImportCounts => Object.fromEntries(importEntities.map((e) => [e, 0])) as ImportCounts;

function importFailed(errors: ImportError[]): ValidationError {
  const sorted = [...errors].sort(byPosition);
  const rowsWithErrors = new Set(sorted.map((e) => `${e.entity ?? ''}:${e.row}`)).size;
  const shown = sorted
    .slice(0, ERRORS_IN_MESSAGE)
    .map((e) => `${e.entity ? `${e.entity} row ${e.row}` : 'file'} ${e.field}: ${e.message}`)
    .join('; ');
  const more =
    sorted.length > ERRORS_IN_MESSAGE
      ? ` (and ${sorted.length - ERRORS_IN_MESSAGE} more in details.errors)`
      : '';
  return new ValidationError(
    `Nothing was imported: ${sorted.length} problem${sorted.length === 1 ? '' : 's'} in ${rowsWithErrors} ` +
      `row${rowsWithErrors === 1 ? '' : 's'}. Fix them and send the whole import again. ${shown}${more}`,
    { details: { errors: sorted } },
  );
}

/** Which of the store's objects the import mentions, with what planning and applying need. */
async function loadMentioned(tx: Tx, document: Parameters<typeof mentionedNames>[0]) {
  const names = mentionedNames(document);
  // one after another: a transaction is one connection
  const regions = await inventoryStore.regionsByNames(tx, names.regions);
  const customers = await inventoryStore.customersByNames(tx, names.customers);
  const machineTypes = await inventoryStore.machineTypesByNames(tx, names.machineTypes);
  const assetGroups = await assetStore.groupsByNames(tx, names.assetGroups);
  const assets = await assetStore.assetsByNames(tx, names.assets);
  const jumpboxes = await jumpboxStore.jumpboxesByNames(tx, names.jumpboxes);
  const environments = await inventoryStore.environmentsOfCustomers(tx, names.customers);
  const byName = <T extends { name: string }>(items: T[]) => new Map(items.map((i) => [i.name, i]));
  return {
    regions: byName(regions),
    customers: byName(customers),
    machineTypes: byName(machineTypes),
    assetGroups: byName(assetGroups),
    assets: byName(assets),
    jumpboxes: byName(jumpboxes),
    environments: new Map<string, Environment>(environments.map((e) => [`${e.customer}/${e.name}`, e])),
  };
}

/**
 * Bulk import: validates everything first and reports every bad row; then, in one transaction,
 * creates (and in upsert mode updates) in dependency order and writes one `inventory.imported` event
 * plus, for each object created or updated, the event its own route would have written.
 */
export function createImportService(deps: InventoryServiceDeps) {
  const { db } = deps.store;

  async function apply(tx: Tx, plan: ImportPlan, loaded: Awaited<ReturnType<typeof loadMentioned>>) {
    const now = deps.clock.now();
    const created = zeroCounts();
    const updated = zeroCounts();
    const unchanged = zeroCounts();
    const names = Object.fromEntries(importEntities.map((e) => [e, [] as string[]])) as Record<
      ImportEntity,
      string[]
    >;
    const ids = (m: Map<string, { id: string }>) => new Map([...m].map(([k, v]) => [k, v.id]));
    const maps: ReferenceMaps = {
      regions: ids(loaded.regions),
      customers: ids(loaded.customers),
      machineTypes: ids(loaded.machineTypes),
      groups: ids(loaded.assetGroups),
      environments: new Map(
        [...loaded.environments.values()].map((e) => [
          environmentKey(e.customerId, e.name),
          { id: e.id, regionId: e.regionId },
        ]),
      ),
    };
    const refs = mapReferences(maps);
    const stamp = { createdAt: now, updatedAt: now };
    const creates = <T>(rows: PlannedRow<T>[]) => rows.filter((r) => r.action === 'create');
    const updates = <T>(rows: PlannedRow<T>[]) => rows.filter((r) => r.action === 'update');
    const note = (entity: ImportEntity, counter: ImportCounts, name: string) => {
      counter[entity] += 1;
      if (counter !== unchanged && names[entity].length < NAMES_IN_AUDIT) names[entity].push(name);
    };
    const events: ObjectEvent[] = [];
    const record = (
      noun: string,
      verb: 'created' | 'updated',
      id: string,
      details: Record<string, unknown>,
    ) => events.push({ action: `${noun}.${verb}`, target: { type: noun, id }, details });
    /**
     * Runs one row's update, which returns the fields it changed (none: the row is unchanged); a
     * refusal becomes an import error naming the row.
     */
    const rowUpdate = async (
      entity: ImportEntity,
      row: PlannedRow<{ name: string }>,
      write: () => Promise<string[]>,
    ): Promise<string[]> => {
      try {
        const changed = await write();
        note(entity, changed.length > 0 ? updated : unchanged, row.input.name);
        return changed;
      } catch (error) {
        if (!(error instanceof GatehouseError) || error.code !== 'validation_failed') throw error;
        const field = typeof error.details?.field === 'string' ? error.details.field : '(row)';
        throw importFailed([{ entity, row: row.row, name: row.input.name, field, message: error.message }]);
      }
    };

    // regions and customers: name + displayName
    for (const entity of ['regions', 'customers'] as const) {
      const map = entity === 'regions' ? maps.regions : maps.customers;
      const noun = entity === 'regions' ? 'region' : 'customer';
      const details = entity === 'regions' ? regionDetails : customerDetails;
      const fresh = creates(plan[entity]).map((r) => ({
        id: deps.ids.uuid(),
        name: r.input.name,
        displayName: r.input.displayName ?? r.input.name,
        ...stamp,
      }));
      await (entity === 'regions' ? inventoryStore.insertRegions : inventoryStore.insertCustomers)(tx, fresh);
      for (const item of fresh) {
        map.set(item.name, item.id);
        note(entity, created, item.name);
        record(noun, 'created', item.id, details(item));
      }
      for (const row of updates(plan[entity])) {
        const current = loaded[entity].get(row.input.name)!;
        const changed = await rowUpdate(entity, row, async () => {
          const changed = changedFields({ displayName: row.input.displayName }, current);
          if (changed.length === 0) return changed;
          const update = entity === 'regions' ? inventoryStore.updateRegion : inventoryStore.updateCustomer;
          await update(tx, current.id, { displayName: row.input.displayName, updatedAt: now });
          return changed;
        });
        if (changed.length > 0) record(noun, 'updated', current.id, updateDetails(current, current, changed));
      }
    }

    const freshEnvironments: Environment[] = creates(plan.environments).map(({ input }) => ({
      id: deps.ids.uuid(),
      name: input.name,
      tier: input.tier,
      customerId: maps.customers.get(input.customer)!,
      customer: input.customer,
      regionId: maps.regions.get(input.region)!,
      region: input.region,
      ...stamp,
    }));
    await inventoryStore.insertEnvironments(tx, freshEnvironments);
    for (const e of freshEnvironments) {
      maps.environments.set(environmentKey(e.customerId, e.name), { id: e.id, regionId: e.regionId });
      note('environments', created, `${e.customer}/${e.name}`);
      record('environment', 'created', e.id, environmentDetails(e));
    }
    for (const row of updates(plan.environments)) {
      const current = loaded.environments.get(`${row.input.customer}/${row.input.name}`)!;
      const changed = await rowUpdate('environments', row, async () => {
        const changed = changedFields({ tier: row.input.tier, region: row.input.region }, current);
        if (changed.length === 0) return changed;
        const regionId = maps.regions.get(row.input.region)!;
        await inventoryStore.updateEnvironment(tx, current.id, {
          tier: row.input.tier,
          regionId,
          updatedAt: now,
        });
        return changed;
      });
      if (changed.length > 0)
        record('environment', 'updated', current.id, environmentUpdateDetails(current, changed));
    }

    // machine types and asset groups: name + description
    for (const entity of ['machineTypes', 'assetGroups'] as const) {
      const map = entity === 'machineTypes' ? maps.machineTypes : maps.groups;
      const noun = entity === 'machineTypes' ? 'machine-type' : 'asset-group';
      const details = entity === 'machineTypes' ? machineTypeDetails : assetGroupDetails;
      const fresh = creates(plan[entity]).map((r) => ({
        id: deps.ids.uuid(),
        name: r.input.name,
        description: r.input.description ?? '',
        memberCount: 0,
        ...stamp,
      }));
      await (entity === 'machineTypes' ? inventoryStore.insertMachineTypes : assetStore.insertGroups)(
        tx,
        fresh,
      );
      for (const item of fresh) {
        map.set(item.name, item.id);
        note(entity, created, item.name);
        record(noun, 'created', item.id, details(item));
      }
      for (const row of updates(plan[entity])) {
        const current = loaded[entity].get(row.input.name)!;
        const changed = await rowUpdate(entity, row, async () => {
          const changed = changedFields({ description: row.input.description }, current);
          if (changed.length === 0) return changed;
          const update =
            entity === 'machineTypes' ? inventoryStore.updateMachineType : assetStore.updateGroup;
          await update(tx, current.id, { description: row.input.description, updatedAt: now });
          return changed;
        });
        if (changed.length > 0) record(noun, 'updated', current.id, updateDetails(current, current, changed));
      }
    }

    const records: AssetRecord[] = [];
    const members: { groupId: string; assetId: string }[] = [];
    for (const { input } of creates(plan.assets)) {
      const id = deps.ids.uuid();
      records.push(assetRecord(deps.secrets, input, await resolvePlacement(refs, input), id, now));
      for (const groupId of await resolveGroups(refs, input.groups ?? []))
        members.push({ groupId, assetId: id });
      note('assets', created, input.name);
    }
    await assetStore.insertAssets(tx, records);
    await assetStore.addMembers(tx, members);
    // read back, as the asset route does: placement and groups by name, addresses as PostgreSQL wrote them
    const freshAssets = await assetStore.assetsByNames(
      tx,
      records.map((r) => r.name),
    );
    const freshAssetById = new Map(freshAssets.map((a) => [a.id, a]));
    for (const { id } of records) record('asset', 'created', id, assetDetails(freshAssetById.get(id)!));
    for (const row of updates(plan.assets)) {
      const current: Asset = loaded.assets.get(row.input.name)!;
      const { kind: _kind, ...patch } = row.input;
      let asset = current;
      const changed = await rowUpdate('assets', row, async () => {
        const result = await patchAsset(deps, tx, current, patch);
        asset = result.asset;
        return result.changed;
      });
      if (changed.length > 0) record('asset', 'updated', current.id, updateDetails(current, asset, changed));
    }

    const freshJumpboxes: Jumpbox[] = creates(plan.jumpboxes).map(({ input }) => ({
      id: deps.ids.uuid(),
      name: input.name,
      regionId: maps.regions.get(input.region)!,
      region: input.region,
      address: input.address,
      sourceCidrs: [...new Set(input.sourceCidrs)],
      description: input.description ?? '',
      ...stamp,
    }));
    await jumpboxStore.insertJumpboxes(tx, freshJumpboxes);
    freshJumpboxes.forEach((j) => note('jumpboxes', created, j.name));
    const changedJumpboxes = new Map<string, string[]>();
    for (const row of updates(plan.jumpboxes)) {
      const current = loaded.jumpboxes.get(row.input.name)!;
      const { name: _name, region, ...rest } = row.input;
      const patch = { ...rest, region, sourceCidrs: [...new Set(rest.sourceCidrs)] };
      const changed = await rowUpdate('jumpboxes', row, async () => {
        const changed = changedFields(patch, current);
        if (changed.length === 0) return changed;
        await jumpboxStore.updateJumpbox(tx, current.id, {
          ...patch,
          regionId: maps.regions.get(region)!,
          updatedAt: now,
        });
        return changed;
      });
      if (changed.length > 0) changedJumpboxes.set(current.id, changed);
    }
    // read back, as the jumpbox route does: PostgreSQL normalises addresses (2001:DB8::1 → 2001:db8::1)
    const written = await jumpboxStore.jumpboxesByNames(tx, [
      ...freshJumpboxes.map((j) => j.name),
      ...updates(plan.jumpboxes).map((r) => r.input.name),
    ]);
    const writtenById = new Map(written.map((j) => [j.id, j]));
    for (const { id } of freshJumpboxes)
      record('jumpbox', 'created', id, jumpboxDetails(writtenById.get(id)!));
    for (const [id, changed] of changedJumpboxes) {
      record('jumpbox', 'updated', id, { ...jumpboxDetails(writtenById.get(id)!), changed });
    }
    return { created, updated, unchanged, names, events };
  }

  return {
    /**
     * Imports regions, customers, environments, machine types, asset groups, assets and jumpboxes
     * from JSON, CSV or lists in the request. All or nothing: any bad row fails the whole import
     * with every problem listed in `details.errors`.
     */
    importInventory: async (ctx: RequestContext, request: ImportRequest): Promise<ImportResult> => {
      const { mode, dryRun, format, entity, content, ...lists } = request;
      const source = readImportSource({ format, entity, content, lists });
      const rows = importEntities.reduce((n, e) => n + (source.document[e]?.length ?? 0), 0);
      if (source.errors.length === 0 && rows === 0) {
        throw new ValidationError('The import holds no rows; send at least one region, customer, asset …');
      }
      try {
        return await db.transaction().execute(async (tx) => {
          const loaded = await loadMentioned(tx, source.document);
          const existing = {
            regions: new Set(loaded.regions.keys()),
            customers: new Set(loaded.customers.keys()),
            environments: new Set(loaded.environments.keys()),
            machineTypes: new Set(loaded.machineTypes.keys()),
            assetGroups: new Set(loaded.assetGroups.keys()),
            assets: new Map([...loaded.assets.values()].map((a) => [a.name, a.kind])),
            jumpboxes: new Set(loaded.jumpboxes.keys()),
          };
          const { plan, errors } = planImport(source.document, existing, mode);
          if (source.errors.length + errors.length > 0) throw importFailed([...source.errors, ...errors]);
          const planned = (action: 'create' | 'update') =>
            Object.fromEntries(
              importEntities.map((e) => [e, plan[e].filter((r) => r.action === action).length]),
            ) as ImportCounts;
          if (dryRun) {
            return {
              importId: null,
              dryRun,
              mode,
              rows,
              created: planned('create'),
              updated: planned('update'),
              unchanged: zeroCounts(),
            };
          }
          const importId = deps.ids.uuid();
          const result = await apply(tx, plan, loaded);
          const summary: AuditEventInput = {
            ...ctx,
            action: 'inventory.imported',
            target: { type: 'inventory-import', id: importId },
            details: {
              mode,
              source: content === undefined ? 'lists' : format,
              ...(entity ? { entity } : {}),
              ...(content === undefined ? {} : { contentSha256: sha256Hex(content) }),
              rows,
              created: result.created,
              updated: result.updated,
              unchanged: result.unchanged,
              names: result.names,
              namesTruncated: importEntities.some(
                (e) => result.created[e] + result.updated[e] > NAMES_IN_AUDIT,
              ),
            },
          };
          await deps.audit.appendMany(tx, [
            summary,
            ...result.events.map((e) => ({ ...ctx, ...e, details: { ...e.details, importId } })),
          ]);
          return {
            importId,
            dryRun,
            mode,
            rows,
            created: result.created,
            updated: result.updated,
            unchanged: result.unchanged,
          };
        });
      } catch (error) {
        if (
          pgErrorCode(error) === PgCode.uniqueViolation ||
          pgErrorCode(error) === PgCode.foreignKeyViolation
        ) {
          throw new ConflictError(
            'Another change to the inventory collided with this import while it ran; nothing was imported. Send it again.',
            { cause: error },
          );
        }
        throw error;
      }
    },
  };
}

export type ImportService = ReturnType<typeof createImportService>;
