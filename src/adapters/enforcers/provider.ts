import { EC2Client } from '@aws-sdk/client-ec2';
import type { FleetAsset } from '../../modules/network/fleet.js';
import type { EnforcerProvider } from '../../modules/network/plan.service.js';
import { createAwsSgEnforcer } from './aws-sg/aws-sg-enforcer.js';
import { createRateLimiter, type RateLimiter } from './aws-sg/rate-limiter.js';
import { createNftablesEnforcer } from './nftables/nftables-enforcer.js';
import { createSshNftTransport } from './nftables/ssh-host.js';
import type { LinuxTarget } from '../connectors/linux-ssh/linux-config.js';
import { createLocalTransport } from '../transports/local.js';
import { createNetnsTransport } from '../transports/namespace.js';
import type { Transport } from '../transports/types.js';
import type { LayerEnforcer } from './types.js';

/**
 * Which layers an asset has, from its inventory labels:
 *  - `network/security-group: sg-…` — the cloud layer, that security group in the asset's region;
 *  - `network/host: local` — the host layer, nft on this machine; `network/netns: <name>` — nft in
 *    that network namespace of this machine (test hosts, labs); `network/host: ssh` — nft on the
 *    server over SSH as its automation account, through the remote helper (decision 0014), when
 *    `sshTarget` is given. Other transports can be added by passing `hostTransport`.
 */
const NETNS = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
/** an nft command on a host gives up after this long */
const HOST_TIMEOUT_MS = 30_000;

export interface DefaultEnforcerOptions {
  quota: number;
  requestsPerSecond: number;
  ec2ClientFor?: (region: string) => EC2Client;
  hostTransport?: (asset: FleetAsset) => Transport | undefined;
  /** The linux-ssh target (address, automation credential, host keys) of a server, by asset id. */
  sshTarget?: (assetId: string) => Promise<LinuxTarget>;
}

export function createDefaultEnforcerProvider(options: DefaultEnforcerOptions): EnforcerProvider {
  const clients = new Map<string, EC2Client>();
  const limiters = new Map<string, RateLimiter>();
  const clientFor = (region: string) => {
    let client = clients.get(region);
    if (!client) {
      client = options.ec2ClientFor?.(region) ?? new EC2Client({ region });
      clients.set(region, client);
    }
    return client;
  };
  const limiterFor = (region: string) => {
    let limiter = limiters.get(region);
    if (!limiter) {
      limiter = createRateLimiter({ perSecond: options.requestsPerSecond });
      limiters.set(region, limiter);
    }
    return limiter;
  };
  return {
    forAsset: (asset) => {
      const enforcers: LayerEnforcer[] = [];
      const groupId = asset.labels['network/security-group'];
      if (groupId && /^sg-[0-9a-f]{8,17}$/.test(groupId)) {
        enforcers.push(
          createAwsSgEnforcer({
            client: clientFor(asset.region),
            groupId,
            region: asset.region,
            quota: { rulesPerGroup: options.quota },
            limiter: limiterFor(asset.region),
          }),
        );
      }
      const netns = asset.labels['network/netns'];
      const transport =
        options.hostTransport?.(asset) ??
        (netns && NETNS.test(netns)
          ? createNetnsTransport({ name: netns, timeoutMs: HOST_TIMEOUT_MS })
          : asset.labels['network/host'] === 'local'
            ? createLocalTransport({ timeoutMs: HOST_TIMEOUT_MS })
            : asset.labels['network/host'] === 'ssh' && options.sshTarget
              ? createSshNftTransport(() => options.sshTarget!(asset.id))
              : undefined);
      if (transport) {
        enforcers.push(
          createNftablesEnforcer({
            transport,
            target: `host ${asset.name}${asset.address ? ` (${asset.address})` : ''}`,
          }),
        );
      }
      return enforcers;
    },
  };
}
