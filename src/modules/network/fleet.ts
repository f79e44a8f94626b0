import type { InventoryService } from '../inventory/inventory.service.js';
import type { Asset, Jumpbox, Page } from '../inventory/inventory.schemas.js';
import { canonicalCidr, hostPrefix, parseAddress } from './domain/addresses.js';
import type { AssetTarget, GroupMembers } from './domain/compile.js';

/**
 * The fleet as the network module sees it: assets with what decides which rules apply to them, and
 * the members of every dynamic group, both read through the inventory service (never its SQL).
 *
 * Dynamic groups: `jumpboxes` are the jumpboxes' source CIDRs (or their address); `customer:<c>:<g>`
 * are the assets of asset group <g> that belong to customer <c>; any other name is an asset group.
 */
export type FleetInventory = Pick<InventoryService, 'listAssets' | 'listJumpboxes' | 'listAssetGroups'>;

export interface FleetAsset extends AssetTarget {
  kind: Asset['kind'];
  region: string;
  address: string | null;
  labels: Record<string, string>;
}

export interface Fleet {
  assets: FleetAsset[];
  members: GroupMembers;
  /** every asset group name that exists (for refusing rules that name none) */
  assetGroups: ReadonlySet<string>;
}

export interface FleetFilter {
  customer?: string | undefined;
  environment?: string | undefined;
  asset?: string | undefined;
}

async function all<T>(list: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

function hostCidr(address: string | null | undefined): string | undefined {
  if (!address) return undefined;
  const parsed = parseAddress(address);
  return parsed ? canonicalCidr(`${address}/${hostPrefix(parsed.family)}`) : undefined;
}

function jumpboxCidrs(jumpbox: Jumpbox): string[] {
  const cidrs = jumpbox.sourceCidrs.map((c) => canonicalCidr(c)).filter((c): c is string => !!c);
  if (cidrs.length > 0) return cidrs;
  const own = hostCidr(jumpbox.address);
  return own ? [own] : [];
}

export function assetAddress(asset: Asset): string | null {
  if (asset.kind === 'server') return asset.address;
  return asset.address ?? (parseAddress(asset.host) ? asset.host : null);
}

export async function loadFleet(inventory: FleetInventory, filter: FleetFilter = {}): Promise<Fleet> {
  const assets = await all((cursor) => inventory.listAssets({ limit: 500, ...(cursor ? { cursor } : {}) }));
  const jumpboxes = await all((cursor) =>
    inventory.listJumpboxes({ limit: 500, ...(cursor ? { cursor } : {}) }),
  );
  const members = new Map<string, string[]>();
  const addMember = (group: string, cidr: string | undefined) => {
    if (!cidr) return;
    const list = members.get(group) ?? [];
    if (!list.includes(cidr)) list.push(cidr);
    members.set(group, list);
  };
  for (const jumpbox of jumpboxes) for (const cidr of jumpboxCidrs(jumpbox)) addMember('jumpboxes', cidr);
  const groups = await all((cursor) =>
    inventory.listAssetGroups({ limit: 500, ...(cursor ? { cursor } : {}) }),
  );
  const assetGroups = new Set(groups.map((g) => g.name));
  for (const asset of assets) {
    const cidr = hostCidr(assetAddress(asset));
    for (const group of asset.groups) {
      addMember(group, cidr);
      if (asset.customer) addMember(`customer:${asset.customer}:${group}`, cidr);
    }
  }
  const selected = assets.filter(
    (a) =>
      (!filter.asset || a.name === filter.asset || a.id === filter.asset) &&
      (!filter.customer || a.customer === filter.customer) &&
      (!filter.environment || a.environment === filter.environment),
  );
  return {
    assets: selected.map((a) => ({
      id: a.id,
      name: a.name,
      kind: a.kind,
      machineType: a.machineType,
      groups: a.groups,
      customer: a.customer,
      environment: a.environment,
      region: a.region,
      address: assetAddress(a),
      labels: a.labels,
    })),
    members,
    assetGroups,
  };
}

/** Whether a group name can have members: `jumpboxes`, an asset group, or a customer's asset group. */
export function groupExists(fleet: Pick<Fleet, 'assetGroups'>, group: string): boolean {
  if (group === 'jumpboxes') return true;
  const parts = group.split(':');
  if (parts.length === 3 && parts[0] === 'customer') return fleet.assetGroups.has(parts[2] ?? '');
  return parts.length === 1 && fleet.assetGroups.has(group);
}
