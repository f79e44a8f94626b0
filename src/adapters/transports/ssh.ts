import { parseLinuxTarget, type LinuxTarget } from '../connectors/linux-ssh/linux-config.js';
import { withSsh } from '../connectors/linux-ssh/ssh-session.js';
import type { Transport } from './types.js';

/**
 * A server over SSH as its automation account, with the host keys recorded in the inventory (no trust
 * on first use): one connection per command, so a scan — one script — is one round trip. The account
 * is not root (decision 0008): what only root may read comes back as an error, never as a pass.
 */
export function createSshTransport(target: LinuxTarget): Transport {
  const parsed = parseLinuxTarget(target);
  return {
    kind: 'ssh',
    exec: (argv, stdin) =>
      withSsh(parsed, 'running a hardening script', (session) => session.exec(argv, stdin)),
  };
}
