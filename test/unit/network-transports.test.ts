import { describe, expect, it } from 'vitest';
import { createDefaultEnforcerProvider } from '../../src/adapters/enforcers/provider.js';
import { createNetnsTransport } from '../../src/adapters/transports/namespace.js';
import type { FleetAsset } from '../../src/modules/network/fleet.js';

/** The host layer's transports: which one an asset gets, and the names a netns transport takes. */

const asset = (labels: Record<string, string>) =>
  ({ name: 'acme-p-web-1', region: 'eu-west-1', address: '198.51.100.21', labels }) as unknown as FleetAsset;

describe('host-layer transports', () => {
  it('takes namespace names of letters, digits, _ . - only, so a name never becomes an option or a path', () => {
    for (const name of ['ghl123-1-web', 'srv1', 'a.b_c-d', 'x'.repeat(63)])
      expect(createNetnsTransport({ name }).kind).toBe('netns');
    for (const name of ['', '-rf', '../srv1', 'srv 1', 'srv1;reboot', 'x'.repeat(64), '.hidden'])
      expect(() => createNetnsTransport({ name })).toThrow(/network namespace name/);
  });

  it('gives an asset a host layer in its netns, on this machine, or none (a bad netns label falls through)', () => {
    const provider = createDefaultEnforcerProvider({ quota: 60, requestsPerSecond: 5 });
    const layers = (labels: Record<string, string>) =>
      provider.forAsset(asset(labels)).map((e) => `${e.layer} ${e.target}`);
    expect(layers({ 'network/netns': 'srv1' })).toEqual(['host host acme-p-web-1 (198.51.100.21)']);
    expect(layers({ 'network/host': 'local' })).toEqual(['host host acme-p-web-1 (198.51.100.21)']);
    expect(layers({ 'network/netns': '../srv1' })).toEqual([]);
    expect(layers({})).toEqual([]);
  });
});
