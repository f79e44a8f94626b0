import { compileSecurityGroup, type GroupSecurityGroups, type SgRule } from './cloud-layer.js';
import type { AssetTarget, GroupMembers } from './compile.js';
import { compileHostTable, type HostTable } from './host-layer.js';
import type { Rule } from './rule.js';

/** What one asset's layers should hold: the compiler's output for both. */
export interface DesiredLayers {
  host: HostTable;
  cloud: SgRule[];
}

export function compileAsset(
  rules: readonly Rule[],
  asset: AssetTarget,
  members: GroupMembers,
  groupSgs: GroupSecurityGroups,
): DesiredLayers {
  return {
    host: compileHostTable(rules, asset, members),
    cloud: compileSecurityGroup(rules, asset, members, groupSgs),
  };
}
