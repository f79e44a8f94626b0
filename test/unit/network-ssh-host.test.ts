import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HELPER_PATH } from '../../src/adapters/connectors/linux-ssh/linux-config.js';
import { NFT_APPLY, NFT_CHECK } from '../../src/adapters/enforcers/nftables/nftables-enforcer.js';
import { createSshNftTransport, helperArgv } from '../../src/adapters/enforcers/nftables/ssh-host.js';
import { createDefaultEnforcerProvider } from '../../src/adapters/enforcers/provider.js';
import type { FleetAsset } from '../../src/modules/network/fleet.js';

/** The host layer over ssh: the enforcer's nft commands become helper subcommands, and nothing else runs. */

const sudo = (sub: string) => ['sudo', '-n', HELPER_PATH, 'nft', sub];

describe('host layer over ssh', () => {
  it('maps exactly the four nft commands of the enforcer to the helper', () => {
    expect(helperArgv(['nft', '-j', 'list', 'table', 'inet', 'gatehouse'])).toEqual(sudo('list-table'));
    expect(helperArgv(['nft', '-j', 'list', 'ruleset'])).toEqual(sudo('list-ruleset'));
    expect(helperArgv(NFT_CHECK)).toEqual(sudo('check'));
    expect(helperArgv(NFT_APPLY)).toEqual(sudo('apply'));
    for (const argv of [
      ['nft', 'flush', 'ruleset'],
      ['nft', '-j', 'list', 'table', 'inet', 'filter'],
      ['nft', '-j', 'list', 'table', 'inet', 'gatehouse', 'extra'],
      ['nft', '-j', 'list'],
      ['sh', '-c', 'cat | nft -f -'],
      [],
    ])
      expect(helperArgv(argv), argv.join(' ')).toBeUndefined();
  });

  it('any other argv maps to nothing (property)', () => {
    const known = new Set(
      [
        ['nft', '-j', 'list', 'table', 'inet', 'gatehouse'],
        ['nft', '-j', 'list', 'ruleset'],
        NFT_CHECK,
        NFT_APPLY,
      ].map((a) => JSON.stringify(a)),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom(
              'nft',
              '-j',
              '-c',
              '-f',
              '-',
              'list',
              'table',
              'inet',
              'gatehouse',
              'ruleset',
              'sh',
            ),
            fc.string(),
          ),
          {
            maxLength: 8,
          },
        ),
        (argv) => {
          if (!known.has(JSON.stringify(argv))) expect(helperArgv(argv)).toBeUndefined();
        },
      ),
    );
  });

  it('refuses another command before looking up the server or connecting', async () => {
    let lookups = 0;
    const transport = createSshNftTransport(() => {
      lookups += 1;
      return Promise.reject(new Error('not reached'));
    });
    await expect(transport.exec(['nft', 'flush', 'ruleset'])).rejects.toThrow(
      /runs only the nft commands of gatehouse-account/,
    );
    expect(lookups).toBe(0);
  });

  it('gives a server labelled network/host: ssh an ssh host layer only when the app can reach it', () => {
    const asset = (labels: Record<string, string>) =>
      ({ id: 'a1', name: 'web-1', region: 'lab', address: '198.51.100.21', labels }) as unknown as FleetAsset;
    const target = () => Promise.reject(new Error('not called while choosing layers'));
    const wired = createDefaultEnforcerProvider({ quota: 60, requestsPerSecond: 5, sshTarget: target });
    expect(wired.forAsset(asset({ 'network/host': 'ssh' })).map((e) => `${e.layer} ${e.target}`)).toEqual([
      'host host web-1 (198.51.100.21)',
    ]);
    expect(wired.forAsset(asset({ 'network/host': 'sshd' }))).toEqual([]);
    const bare = createDefaultEnforcerProvider({ quota: 60, requestsPerSecond: 5 });
    expect(bare.forAsset(asset({ 'network/host': 'ssh' }))).toEqual([]);
  });
});
