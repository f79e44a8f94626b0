import { createLocalTransport } from '../../adapters/transports/local.js';
import { createSshTransport } from '../../adapters/transports/ssh.js';
import { ValidationError } from '../../platform/errors.js';
import type { InventoryService } from '../inventory/inventory.service.js';
import type { TransportResolver } from './scan.service.js';

/** The label that says how Gatehouse reaches a server for hardening: `local` (the machine it runs on). */
export const TRANSPORT_LABEL = 'hardening.transport';

/**
 * The transports of a running Gatehouse: a server labelled `hardening.transport=local` is this
 * machine; a server with an automation credential and recorded host keys is reached over SSH as that
 * account (the linux-ssh connector's session). Anything else gets a failed scan saying why.
 */
export function defaultTransports(
  inventory: Pick<InventoryService, 'revealAutomationCredential'>,
): TransportResolver {
  const local = createLocalTransport();
  return async (asset) => {
    if (asset.labels[TRANSPORT_LABEL] === 'local') return local;
    if (asset.kind === 'server' && asset.hasAutomationCredential && asset.hostKeys.length > 0) {
      return createSshTransport({
        engine: 'linux-ssh',
        host: asset.address,
        port: asset.sshPort,
        automation: await inventory.revealAutomationCredential(asset.id),
        hostKeys: asset.hostKeys,
      });
    }
    throw new ValidationError(
      `asset ${asset.name} has no hardening transport: record its automation credential and host keys (ssh), or label it ${TRANSPORT_LABEL}=local to scan the machine Gatehouse runs on`,
    );
  };
}
