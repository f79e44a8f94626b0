import { createLinuxSshConnector } from '../../src/adapters/connectors/linux-ssh/linux-ssh-connector.js';
import type { LinuxTarget } from '../../src/adapters/connectors/linux-ssh/linux-config.js';
import { sshWithPassword, startLinuxHost } from '../../test/support/linux-host.js';
import { createLab } from '../../test/support/netns.js';
import type { BenchContext, BenchGroup } from '../framework.js';

/**
 * Just-in-time access to one Linux server (needs root, iproute2, openssh-server, sshpass — what the
 * system tests use): a server namespace running the real sshd with its own /etc, and a jumpbox
 * namespace. `linux_grant_ms.p50` / `.p99`: from the provisioning call for an approved grant (the
 * linux-ssh connector: sshd drop-in, useradd, chpasswd, sudoers drop-in) to the first password login
 * from the jumpbox that succeeds, polled every 20 ms with the real OpenSSH client. The job pickup that
 * precedes provisioning is the access group's `grant_ms` figure and is not counted again here.
 * `linux_revoke_ms.p50`: removing the account (lock, kill, userdel, verify). Each round makes its own
 * account; all are removed at the end. Reported as access.linux_*.
 */

const ROUNDS = 20;
const POLL_MS = 20;
const WAIT_LIMIT_MS = 30_000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[index]! * 10) / 10;
}

const group: BenchGroup = {
  name: 'linux',
  prefix: 'access',
  targets: { 'linux_grant_ms.p99': { atMost: 5_000 } },
  async run(ctx: BenchContext) {
    if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces and a private sshd)');
    const lab = await createLab();
    ctx.defer(() => lab.close());
    const segment = await lab.addSegment('bench', {
      cidrs: ['203.0.113.0/24'],
      rootAddress: ['203.0.113.1/24'],
    });
    const server = await startLinuxHost(lab, segment, { name: 'srv', address: '203.0.113.20' });
    ctx.defer(() => server.stop());
    const jumpbox = await lab.addHost('jump');
    await lab.connect(jumpbox, segment, ['203.0.113.30/24']);
    const connector = createLinuxSshConnector();
    const target: LinuxTarget = {
      engine: 'linux-ssh',
      host: '203.0.113.20',
      automation: server.automation,
      hostKeys: [server.hostKey],
    };

    const grants: number[] = [];
    const revokes: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const username = `gh_bench_${round}`;
      const password = `Bench-${round}-pw.Xk9`;
      const started = performance.now();
      await connector.createAccount(target, {
        username,
        password,
        level: 'read-write',
        validUntil: new Date(Date.now() + 3_600_000),
        sourceCidrs: ['203.0.113.30/32'],
      });
      for (;;) {
        const login = await sshWithPassword(jumpbox, { address: '203.0.113.20' }, username, password, 'true');
        if (login.code === 0) break;
        if (performance.now() - started > WAIT_LIMIT_MS) throw new Error(`${username} could not log in`);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      grants.push(performance.now() - started);
      const revokeStarted = performance.now();
      await connector.revokeAccount(target, username);
      revokes.push(performance.now() - revokeStarted);
    }
    ctx.log(`${ROUNDS} grants on one host`);
    return {
      'linux_grant_ms.p50': percentile(grants, 50),
      'linux_grant_ms.p99': percentile(grants, 99),
      'linux_revoke_ms.p50': percentile(revokes, 50),
    };
  },
};

export default group;
