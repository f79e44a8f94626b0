import { createAssetService } from './asset.service.js';
import { createCatalogService } from './catalog.service.js';
import { createImportService } from './import.service.js';
import { createJumpboxService } from './jumpbox.service.js';
import type { InventoryServiceDeps } from './service-support.js';

export type { InventoryServiceDeps } from './service-support.js';

/**
 * The inventory: customers, environments, regions, machine types, assets (servers and databases),
 * asset groups and jumpboxes. One service for callers, built from one part per entity family.
 * Every change writes its audit event in its own transaction; admin credentials are sealed on arrival
 * and only `revealAdminCredential` opens them.
 */
export function createInventoryService(deps: InventoryServiceDeps) {
  return {
    ...createCatalogService(deps),
    ...createAssetService(deps),
    ...createJumpboxService(deps),
    ...createImportService(deps),
  };
}

export type InventoryService = ReturnType<typeof createInventoryService>;
