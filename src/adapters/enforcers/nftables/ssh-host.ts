import { GatehouseError } from '../../../platform/errors.js';
import { TABLE } from '../../../modules/network/domain/host-layer.js';
import { HELPER_PATH, parseLinuxTarget, type LinuxTarget } from '../../connectors/linux-ssh/linux-config.js';
import { withSsh } from '../../connectors/linux-ssh/ssh-session.js';
import type { InventoryService } from '../../../modules/inventory/inventory.service.js';
import type { Transport } from '../../transports/types.js';
import { NFT_APPLY, NFT_CHECK } from './nftables-enforcer.js';

/**
 * The host layer of a server reached over SSH (label `network/host: ssh`), as its automation account.
 * That account is not root and may run only the remote helper with sudo (decisions 0008, 0014): each
 * of the four nft commands the enforcer runs becomes one `gatehouse-account nft …` subcommand, which
 * reads or replaces table `inet gatehouse` and nothing else. Any other command is refused here,
 * before a connection is made.
 */
const HELPER_NFT: ReadonlyArray<readonly [readonly string[], string]> = [
  [['nft', '-j', 'list', 'table', TABLE.family, TABLE.name], 'list-table'],
  [['nft', '-j', 'list', 'ruleset'], 'list-ruleset'],
  [NFT_CHECK, 'check'],
  [NFT_APPLY, 'apply'],
];

/** The helper command line for one of the enforcer's nft commands; undefined for anything else. */
export function helperArgv(argv: readonly string[]): string[] | undefined {
  const found = HELPER_NFT.find(
    ([known]) => known.length === argv.length && known.every((arg, i) => arg === argv[i]),
  );
  return found ? ['sudo', '-n', HELPER_PATH, 'nft', found[1]] : undefined;
}

/**
 * A transport that runs the enforcer's nft commands through the helper over SSH, with the host keys
 * recorded in the inventory (no trust on first use). The target (and its credential) is looked up
 * for each command, so a key rotated in the inventory is used at once and nothing is held open.
 */
export function createSshNftTransport(target: () => Promise<LinuxTarget>): Transport {
  return {
    kind: 'ssh',
    exec: async (argv, stdin) => {
      const command = helperArgv(argv);
      if (!command) {
        throw new GatehouseError(
          'internal',
          `the host firewall over ssh runs only the nft commands of gatehouse-account, not '${argv.join(' ')}'`,
        );
      }
      const parsed = parseLinuxTarget(await target());
      return withSsh(parsed, 'changing the host firewall', (session) => session.exec(command, stdin));
    },
  };
}

/** What the ssh host layer needs from the inventory: the server and its automation credential. */
export type SshHostInventory = Pick<InventoryService, 'getAsset' | 'revealAutomationCredential'>;

/** The linux-ssh target of a server for its host layer, or an error saying what the asset lacks. */
export function sshHostTarget(inventory: SshHostInventory) {
  return async (assetId: string): Promise<LinuxTarget> => {
    const asset = await inventory.getAsset(assetId);
    if (asset.kind !== 'server' || !asset.hasAutomationCredential || asset.hostKeys.length === 0) {
      throw new GatehouseError(
        'precondition_failed',
        `asset ${asset.name} is labelled network/host: ssh but has no automation credential and host keys; record them (the Linux access fields) first`,
      );
    }
    return {
      engine: 'linux-ssh',
      host: asset.address,
      port: asset.sshPort,
      automation: await inventory.revealAutomationCredential(asset.id),
      hostKeys: asset.hostKeys,
    };
  };
}
