import { createLocalTransport } from '../../adapters/transports/local.js';
import { ValidationError } from '../../platform/errors.js';
import type { TransportResolver } from './scan.service.js';

/** The label that says how Gatehouse reaches a server for hardening: `local` (the machine it runs on). */
export const TRANSPORT_LABEL = 'hardening.transport';

/**
 * The transports of a running Gatehouse: a server labelled `hardening.transport=local` is this
 * machine. Other servers need the ssh transport (linux-ssh connector); until it is wired here their
 * scans are recorded as failed with this message, rather than guessed at.
 */
export function defaultTransports(): TransportResolver {
  const local = createLocalTransport();
  return (asset) => {
    if (asset.labels[TRANSPORT_LABEL] === 'local') return local;
    throw new ValidationError(
      `asset ${asset.name} has no hardening transport: label it ${TRANSPORT_LABEL}=local to scan the machine Gatehouse runs on (ssh scans are not wired yet)`,
    );
  };
}
