import { GatehouseError, TransientError } from '../../../platform/errors.js';
import { renderHostTable, TABLE } from '../../../modules/network/domain/host-layer.js';
import {
  parseForeignRules,
  parseObservedTable,
  type ObservedHostTable,
} from '../../../modules/network/domain/host-observe.js';
import { planHostLayer } from '../../../modules/network/domain/plan.js';
import type { Transport } from '../../transports/types.js';
import type { DesiredLayers, LayerEnforcer, ObserveOptions } from '../types.js';

/**
 * The host layer on one Linux host: the whole `inet gatehouse` table is replaced in one
 * `nft -j -f -` transaction after `nft -c` has accepted it, so a malformed ruleset changes nothing.
 * Only that table is touched: never `flush ruleset`, other owners' tables survive.
 */
/**
 * nft reads `-f -` by opening /dev/stdin, which fails when stdin is a socket (as Node's and some ssh
 * servers' pipes are): `cat` hands it a real pipe. The command line is constant; the table is data.
 */
export const NFT_CHECK = ['sh', '-c', 'cat | nft -c -j -f -'] as const;
export const NFT_APPLY = ['sh', '-c', 'cat | nft -j -f -'] as const;

export function createNftablesEnforcer(deps: { transport: Transport; target: string }): LayerEnforcer {
  const { transport } = deps;

  async function read(): Promise<ObservedHostTable> {
    const listed = await transport.exec(['nft', '-j', 'list', 'table', TABLE.family, TABLE.name]);
    if (listed.code !== 0) {
      if (/No such file or directory/.test(listed.stderr)) return parseObservedTable({ nftables: [] });
      throw new TransientError(
        'target_unavailable',
        `${deps.target}: nft list failed: ${listed.stderr.trim().slice(0, 500)}`,
      );
    }
    try {
      return parseObservedTable(JSON.parse(listed.stdout));
    } catch (error) {
      throw new TransientError(
        'target_unavailable',
        `${deps.target}: nft printed something that is not JSON`,
        { cause: error },
      );
    }
  }

  return {
    layer: 'host',
    target: deps.target,
    observe: async (desired: DesiredLayers, options?: ObserveOptions) => {
      const own = await read();
      if (!options?.includeForeign) return planHostLayer(desired.host, own);
      const listed = await transport.exec(['nft', '-j', 'list', 'ruleset']);
      if (listed.code !== 0) {
        throw new TransientError(
          'target_unavailable',
          `${deps.target}: nft list ruleset failed: ${listed.stderr.trim().slice(0, 500)}`,
        );
      }
      const foreign = parseForeignRules(JSON.parse(listed.stdout));
      const table = own.table ?? { sets: [], rules: [] };
      return planHostLayer(desired.host, {
        table: { sets: table.sets, rules: [...table.rules, ...foreign.rules] },
        unknown: [...own.unknown, ...foreign.unknown],
        enforcing: own.table ? own.enforcing : true,
      });
    },
    apply: async (desired: DesiredLayers) => {
      const document = JSON.stringify(renderHostTable(desired.host));
      const checked = await transport.exec(NFT_CHECK, document);
      if (checked.code !== 0) {
        throw new GatehouseError(
          'internal',
          `${deps.target}: nft refused the compiled table; nothing was changed: ${checked.stderr.trim().slice(0, 500)}`,
        );
      }
      const applied = await transport.exec(NFT_APPLY, document);
      if (applied.code !== 0) {
        throw new TransientError(
          'target_unavailable',
          `${deps.target}: nft apply failed; the transaction changed nothing: ${applied.stderr.trim().slice(0, 500)}`,
        );
      }
    },
  };
}
