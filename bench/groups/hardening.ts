import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGatehouse } from '../../src/app.js';
import { createLocalTransport } from '../../src/adapters/transports/local.js';
import type { Transport } from '../../src/adapters/transports/types.js';
import { systemActor } from '../../src/modules/audit/audit.types.js';
import { evaluateWithOscap, writeWorkingDatastream } from '../../src/modules/hardening/oscap.js';
import type { TransportResolver } from '../../src/modules/hardening/scan.service.js';
import { defaultTransports } from '../../src/modules/hardening/transports.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { startLinuxHost, type LinuxHost } from '../../test/support/linux-host.js';
import { createLab, type Lab } from '../../test/support/netns.js';
import { timed, type BenchGroup } from '../framework.js';

/**
 * Hardening scans, end to end through the scan service (script, transport, evaluation, results and
 * audit written to PostgreSQL):
 *  - scan_s: one host, the whole Debian 12 baseline, median of 5, over ssh: a real sshd in a network
 *    namespace with its own /etc (the system tests' Linux host), reached as its automation account.
 *    Where that host cannot be started (not root, no sshd) the figure is over the local transport and
 *    the log says so; scan_local_s is always this machine over the local transport.
 *  - fleet_scan_s: 200 simulated hosts at concurrency 16; each host's transport answers with the
 *    output this machine's scan produced, so the figure is Gatehouse's own cost per fleet scan.
 *  - oscap_s: `oscap xccdf eval` of the SSG rules the baseline names, on the same machine, median of 3.
 */
const HOSTS = 200;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const group: BenchGroup = {
  name: 'hardening',
  async run(ctx) {
    const database = await ctx.scratchDatabase();
    const store = await database.open({ maxConnections: 32 });
    const local = createLocalTransport();
    let recorded = '';
    const recording: Transport = {
      kind: 'local',
      exec: async (argv, stdin) => {
        const result = await local.exec(argv, stdin);
        recorded = result.stdout;
        return result;
      },
    };
    const simulated: Transport = {
      kind: 'simulated',
      exec: () => Promise.resolve({ code: 0, stdout: recorded, stderr: '' }),
    };
    const late: { overSsh?: TransportResolver } = {};
    const gh = await createGatehouse({
      config: loadConfig({ env: {}, overrides: { databaseUrl: database.url } }),
      store,
      masterKey: randomBytes(32),
      logger: createLogger({ level: 'silent' }),
      hardening: {
        transports: (asset) =>
          asset.name === 'bench-ssh'
            ? late.overSsh!(asset)
            : asset.name === 'bench-self'
              ? recording
              : simulated,
        concurrency: 16,
      },
    });
    ctx.defer(() => gh.close());
    late.overSsh = defaultTransports(gh.inventory);
    const actor = { actor: systemActor('bench') };
    const region = await gh.inventory.createRegion(actor, { name: 'bench' });
    await gh.inventory.createMachineType(actor, { name: 'bench-web' });
    await gh.inventory.createAsset(actor, {
      kind: 'server',
      name: 'bench-self',
      region: region.name,
      os: 'debian-12',
      address: '192.0.2.1',
    });
    let sshHost: { lab: Lab; server: LinuxHost } | undefined;
    try {
      const lab = await createLab();
      ctx.defer(() => lab.close());
      const segment = await lab.addSegment('bench', {
        cidrs: ['203.0.113.0/24'],
        rootAddress: ['203.0.113.1/24'],
      });
      const server = await startLinuxHost(lab, segment, { name: 'bsrv', address: '203.0.113.80' });
      ctx.defer(() => server.stop());
      sshHost = { lab, server };
      await gh.inventory.createAsset(actor, {
        kind: 'server',
        name: 'bench-ssh',
        region: region.name,
        os: 'debian-12',
        address: '203.0.113.80',
        automationCredential: server.automation,
        hostKeys: [server.hostKey],
      });
    } catch (error) {
      ctx.log(
        `hardening: no ssh host (${(error as Error).message.slice(0, 200)}); scan_s is over the local transport`,
      );
    }
    for (let i = 0; i < HOSTS; i++) {
      await gh.inventory.createAsset(actor, {
        kind: 'server',
        name: `bench-web-${i}`,
        region: region.name,
        machineType: 'bench-web',
        os: 'debian-12',
        address: `198.51.100.${i % 250}`,
      });
    }

    const scanTimes = async (asset: string) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { ms, value } = await timed(() =>
          gh.hardening.scans.scan(actor, { baseline: 'debian-12-server', asset }),
        );
        if (value[0]?.state !== 'completed')
          throw new Error(`the scan of ${asset} failed: ${value[0]?.error ?? ''}`);
        times.push(ms);
      }
      return times;
    };
    ctx.log('hardening: scanning this machine over the local transport');
    const local5 = await scanTimes('bench-self');
    let single = local5;
    if (sshHost) {
      ctx.log('hardening: scanning a namespace host over ssh');
      single = await scanTimes('bench-ssh');
    }

    ctx.log(`hardening: scanning ${HOSTS} simulated hosts at concurrency 16`);
    const fleet = await timed(() =>
      gh.hardening.scans.scan(actor, {
        baseline: 'debian-12-server',
        machineType: 'bench-web',
        concurrency: 16,
      }),
    );
    if (fleet.value.some((s) => s.state !== 'completed')) throw new Error('a simulated host scan failed');

    ctx.log('hardening: oscap xccdf eval on the overlapping SSG rules');
    const work = mkdtempSync(path.join(tmpdir(), 'gh-bench-oscap-'));
    ctx.defer(() => Promise.resolve(rmSync(work, { recursive: true, force: true })));
    const datastream = path.join(work, 'ds.xml');
    const baseline = gh.hardening.baselines.get('debian-12-server');
    writeWorkingDatastream(
      datastream,
      baseline.rules.flatMap((r) => r.ssg),
    );
    const oscap: number[] = [];
    for (let i = 0; i < 3; i++) oscap.push((await timed(() => evaluateWithOscap(local, datastream))).ms);

    return {
      scan_s: Math.round(median(single)) / 1000,
      scan_local_s: Math.round(median(local5)) / 1000,
      fleet_scan_s: Math.round(fleet.ms) / 1000,
      oscap_s: Math.round(median(oscap)) / 1000,
    };
  },
};

export default group;
