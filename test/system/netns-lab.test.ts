import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertDocumentationAddress, createLab, run, type Lab, type NetHost } from '../support/netns.js';

/**
 * The lab every system test stands on: hosts on a segment reach each other, hosts on another segment
 * only through a forwarding gateway, the test process reaches a segment it joined, and closing the lab
 * leaves no namespace and no machine-side link behind.
 */
describe('network namespace lab', () => {
  let lab: Lab;
  let a: NetHost;
  let b: NetHost;
  let gw: NetHost;
  let far: NetHost;

  beforeAll(async () => {
    lab = await createLab();
    const lan = await lab.addSegment('lan', { cidrs: ['198.51.100.0/24'], rootAddress: ['198.51.100.1/24'] });
    const wan = await lab.addSegment('wan', { cidrs: ['203.0.113.0/24', '2001:db8:5::/64'] });
    a = await lab.addHost('a');
    b = await lab.addHost('b');
    gw = await lab.addHost('gw');
    far = await lab.addHost('far');
    await lab.connect(a, lan, ['198.51.100.10/24']);
    await lab.connect(b, lan, ['198.51.100.11/24']);
    await lab.connect(gw, lan, ['198.51.100.254/24']);
    await lab.connect(gw, wan, ['203.0.113.254/24', '2001:db8:5::fe/64']);
    await lab.connect(far, wan, ['203.0.113.20/24', '2001:db8:5::20/64']);
  }, 60_000);

  afterAll(async () => {
    await lab?.close();
  });

  it('connects hosts on one segment, and the test process to the segment it joined', async () => {
    const server = await b.listen(7000);
    try {
      expect(await a.canConnect('198.51.100.11', 7000)).toBe(true);
      // nothing listens on 7001: refused, not accepted
      expect(await a.canConnect('198.51.100.11', 7001)).toBe(false);
      const fromRoot = await run(
        'node',
        [
          '-e',
          `require('node:net').connect(7000, '198.51.100.11').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`,
        ],
        { allowFailure: true, timeoutMs: 5000 },
      );
      expect(fromRoot.code).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('reaches another segment only through a forwarding gateway, over IPv4 and IPv6', async () => {
    const server = await far.listen(7100);
    try {
      await lab.route(far, '198.51.100.0/24', '203.0.113.254');
      await lab.route(a, '203.0.113.0/24', '198.51.100.254');
      expect(await a.canConnect('203.0.113.20', 7100, { timeoutMs: 800 })).toBe(false);
      await lab.enableForwarding(gw);
      expect(await a.canConnect('203.0.113.20', 7100)).toBe(true);
      expect(await gw.canConnect('2001:db8:5::20', 7100)).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('refuses addresses outside the documentation ranges', async () => {
    expect(() => assertDocumentationAddress('10.0.0.1/24')).toThrow(/documentation range/);
    expect(() => assertDocumentationAddress('192.0.2.0/16')).toThrow(/documentation range/);
    expect(() => assertDocumentationAddress('2001:db9::1/64')).toThrow(/documentation range/);
    const segment = { name: 'x', cidrs: [], bridge: 'br0' };
    await expect(lab.connect(a, segment, ['10.1.2.3/24'])).rejects.toThrow(/documentation range/);
    // a network the machine routes itself (its uplink) cannot be joined: that would cut the machine off
    const routes = JSON.parse((await run('ip', ['-4', '-j', 'route', 'show'])).stdout) as { dst: string }[];
    const uplink = routes.find((route) => route.dst !== 'default');
    expect(uplink).toBeDefined();
    const [network = ''] = uplink!.dst.split('/');
    await expect(lab.addSegment('uplink', { cidrs: [], rootAddress: [`${network}/24`] })).rejects.toThrow(
      /documentation range|already routes/,
    );
  });

  it('leaves nothing behind when closed', async () => {
    const other = await createLab();
    const seg = await other.addSegment('s', { cidrs: ['203.0.113.0/24'], rootAddress: ['203.0.113.1/24'] });
    const h = await other.addHost('h');
    await other.connect(h, seg, ['203.0.113.5/24']);
    const before = await run('ip', ['netns', 'list']);
    expect(before.stdout).toContain(`${other.prefix}-h`);
    await other.close();
    const after = await run('ip', ['netns', 'list']);
    expect(after.stdout).not.toContain(other.prefix);
    const links = await run('ip', ['-o', 'address', 'show']);
    expect(links.stdout).not.toContain('203.0.113.1/24');
  });
});
