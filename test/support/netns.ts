import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { BlockList, isIPv6 } from 'node:net';

/**
 * Test hosts as Linux network namespaces (system tests only; needs root and iproute2).
 *
 * A lab is one private "switch" namespace holding a bridge per segment; every host is a namespace with
 * one veth per segment it is connected to. The test process itself (in the machine's namespace) joins a
 * segment only when asked (`rootAddress`), so it can reach hosts' services. Addresses must come from the
 * documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32): the lab refuses
 * anything else, so no test sends traffic anywhere real.
 *
 * The machine itself may sit on a documentation range (here: eth0 is 192.0.2.2/24 with its default
 * gateway at 192.0.2.1). A segment the test process joins must not overlap a network the machine
 * already routes, or the machine would lose its own connectivity: `addSegment` refuses that, so use
 * 198.51.100.0/24 or 203.0.113.0/24 (or 2001:db8::/32) for segments with a `rootAddress`.
 *
 * Namespace names carry the creating process id (`ghl<pid>-…`); `createLab` first removes namespaces
 * left by processes that are gone, so a crashed run never breaks the next one. System test files run
 * one at a time (vitest project `system`), but labs of one process are kept apart by a counter anyway.
 */

const NS_PREFIX = 'ghl';

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ExecOptions {
  /** Written to the command's stdin. */
  input?: string;
  timeoutMs?: number;
  /** Resolve with the exit code instead of throwing when it is not 0. */
  allowFailure?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface Segment {
  name: string;
  /** The segment's prefixes, e.g. `['192.0.2.0/24', '2001:db8:1::/64']`. */
  cidrs: string[];
  /** The bridge's name inside the switch namespace. */
  bridge: string;
}

export interface NetHost {
  name: string;
  /** The namespace name, for `ip netns exec <ns>`. */
  ns: string;
  /** Every address given to the host, without prefix length, in the order they were added. */
  addresses: string[];
  /** Runs a command inside the host's network namespace (as root). */
  exec(argv: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts a long-running command inside the namespace; the lab kills it on close if still running. */
  spawn(argv: string[]): ChildProcess;
  /** Whether a TCP connection from this host to `address:port` is accepted within `timeoutMs`. */
  canConnect(
    address: string,
    port: number,
    options?: { timeoutMs?: number; from?: string },
  ): Promise<boolean>;
  /** A TCP server on `port` in this host that accepts and closes connections; resolves once listening. */
  listen(port: number, address?: string): Promise<{ stop(): Promise<void> }>;
}

export interface Lab {
  /** Prefix of every namespace this lab made. */
  prefix: string;
  /** A bridge; `rootAddress` (with prefix length) connects the test process to it. */
  addSegment(name: string, options: { cidrs: string[]; rootAddress?: string[] }): Promise<Segment>;
  addHost(name: string): Promise<NetHost>;
  /**
   * Connects a host to a segment with the given addresses (with prefix lengths, e.g. `192.0.2.10/24`).
   * Returns the interface name inside the host.
   */
  connect(host: NetHost, segment: Segment, addresses: string[]): Promise<string>;
  /** `ip route replace <destination> via <gateway>` inside the host (`default` allowed). */
  route(host: NetHost, destination: string, gateway: string): Promise<void>;
  /** Makes the host forward packets between its interfaces (a gateway/router). */
  enableForwarding(host: NetHost): Promise<void>;
  /** Removes every namespace and process this lab made; safe to call twice. */
  close(): Promise<void>;
}

let labCounter = 0;

export async function createLab(): Promise<Lab> {
  await removeStaleNamespaces();
  const prefix = `${NS_PREFIX}${process.pid}x${labCounter++}`;
  const switchNs = `${prefix}-sw`;
  const namespaces: string[] = [];
  const children = new Set<ChildProcess>();
  const rootLinks: string[] = [];
  let segments = 0;
  let links = 0;
  const interfacesPerHost = new Map<string, number>();

  async function addNamespace(ns: string): Promise<void> {
    await ip(['netns', 'add', ns]);
    namespaces.push(ns);
    await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  await addNamespace(switchNs);

  const lab: Lab = {
    prefix,
    async addSegment(name, options) {
      options.cidrs.forEach((cidr) => assertDocumentationAddress(cidr));
      const bridge = `br${segments++}`;
      await ip(['-n', switchNs, 'link', 'add', bridge, 'type', 'bridge']);
      await ip(['-n', switchNs, 'link', 'set', bridge, 'up']);
      const segment: Segment = { name, cidrs: options.cidrs, bridge };
      if (options.rootAddress?.length) {
        options.rootAddress.forEach((address) => assertDocumentationAddress(address));
        for (const address of options.rootAddress) await assertNotRoutedByMachine(address);
        // the machine-side end must have a name unique on the machine: pid and counters, ≤ 15 chars
        const rootEnd = `gh${(process.pid % 46656).toString(36)}${labCounter.toString(36)}r${segments}`;
        const switchEnd = `l${links++}`;
        await ip(['link', 'add', rootEnd, 'type', 'veth', 'peer', 'name', switchEnd, 'netns', switchNs]);
        rootLinks.push(rootEnd);
        await ip(['-n', switchNs, 'link', 'set', switchEnd, 'master', bridge, 'up']);
        for (const address of options.rootAddress) await ip(addressArgs(rootEnd, address));
        await ip(['link', 'set', rootEnd, 'up']);
      }
      return segment;
    },

    async addHost(name) {
      if (!/^[a-z][a-z0-9]{0,11}$/.test(name)) throw new Error(`host name '${name}': a-z0-9, at most 12`);
      const ns = `${prefix}-${name}`;
      await addNamespace(ns);
      interfacesPerHost.set(ns, 0);
      return hostIn(ns, name, children);
    },

    async connect(host, segment, addresses) {
      addresses.forEach((address) => assertDocumentationAddress(address));
      const index = interfacesPerHost.get(host.ns) ?? 0;
      interfacesPerHost.set(host.ns, index + 1);
      const inside = `eth${index}`;
      const switchEnd = `l${links++}`;
      await ip([
        '-n',
        switchNs,
        'link',
        'add',
        switchEnd,
        'type',
        'veth',
        'peer',
        'name',
        inside,
        'netns',
        host.ns,
      ]);
      await ip(['-n', switchNs, 'link', 'set', switchEnd, 'master', segment.bridge, 'up']);
      for (const address of addresses) {
        await ip(['-n', host.ns, ...addressArgs(inside, address)]);
        host.addresses.push(address.split('/')[0]!);
      }
      await ip(['-n', host.ns, 'link', 'set', inside, 'up']);
      return inside;
    },

    async route(host, destination, gateway) {
      if (destination !== 'default') assertDocumentationAddress(destination);
      assertDocumentationAddress(gateway);
      const family = gateway.includes(':') ? '-6' : '-4';
      await ip([family, '-n', host.ns, 'route', 'replace', destination, 'via', gateway]);
    },

    async enableForwarding(host) {
      await host.exec(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      await host.exec(['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1']);
    },

    async close() {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      children.clear();
      // deleting a namespace removes its veths, and with them their peers (the machine-side ends too)
      for (const ns of namespaces.splice(0).reverse()) await deleteNamespace(ns);
      for (const link of rootLinks.splice(0)) await ip(['link', 'del', link]).catch(() => undefined);
    },
  };
  return lab;
}

function hostIn(ns: string, name: string, children: Set<ChildProcess>): NetHost {
  const host: NetHost = {
    name,
    ns,
    addresses: [],
    exec: (argv, options) => run('ip', ['netns', 'exec', ns, ...argv], options),
    spawn(argv) {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    async canConnect(address, port, options = {}) {
      const script = `
        const s = require('node:net').connect({ host: ${JSON.stringify(address)}, port: ${port}${
          options.from ? `, localAddress: ${JSON.stringify(options.from)}` : ''
        } });
        s.setTimeout(${options.timeoutMs ?? 1500}, () => { console.log('timeout'); process.exit(2); });
        s.on('connect', () => { console.log('connected'); s.destroy(); process.exit(0); });
        s.on('error', (e) => { console.log(e.code); process.exit(1); });`;
      const result = await host.exec(['node', '-e', script], { allowFailure: true, timeoutMs: 10_000 });
      return result.code === 0;
    },
    async listen(port, address = '::') {
      const script = `
        const srv = require('node:net').createServer((s) => { s.on('error', () => {}); s.end('gatehouse-test\\n'); });
        srv.listen({ port: ${port}, host: ${JSON.stringify(address)}, ipv6Only: false }, () => console.log('listening'));`;
      const child = host.spawn(['node', '-e', script]);
      await new Promise<void>((resolve, reject) => {
        let errors = '';
        child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
        child.stdout?.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('listening')) resolve();
        });
        child.once('exit', (code) =>
          reject(new Error(`listener on ${name}:${port} exited ${code}: ${errors}`)),
        );
      });
      return {
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGKILL');
          await exited;
        },
      };
    },
  };
  return host;
}

/** Runs a command; throws with its output unless it exits 0 (or `allowFailure`). */
export async function run(command: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, env: options.env ?? process.env },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        if (code !== 0 && !options.allowFailure) {
          reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr || stdout}`));
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

async function ip(args: string[]): Promise<void> {
  await run('ip', args);
}

function addressArgs(device: string, address: string): string[] {
  // IPv6 duplicate-address detection would leave the address tentative (unusable) for a second or two
  return address.includes(':')
    ? ['-6', 'address', 'add', address, 'dev', device, 'nodad']
    : ['address', 'add', address, 'dev', device];
}

async function deleteNamespace(ns: string): Promise<void> {
  // processes still inside (sshd, listeners) keep nothing alive once the namespace is deleted, but kill
  // them so they do not linger on the machine
  const pids = await run('ip', ['netns', 'pids', ns], { allowFailure: true });
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await run('ip', ['netns', 'delete', ns], { allowFailure: true });
}

/** Deletes namespaces that an earlier, now dead, test process left behind. */
export async function removeStaleNamespaces(): Promise<string[]> {
  const listed = await run('ip', ['netns', 'list'], { allowFailure: true });
  const removed: string[] = [];
  for (const line of listed.stdout.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const match = new RegExp(`^${NS_PREFIX}(\\d+)x\\d+-`).exec(ns);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    await deleteNamespace(ns);
    removed.push(ns);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Refuses a CIDR that overlaps a network the machine already routes (its own uplink, say). */
export async function assertNotRoutedByMachine(cidr: string): Promise<void> {
  const [address = '', length = cidr.includes(':') ? '128' : '32'] = cidr.split('/');
  const family = isIPv6(address) ? 'ipv6' : 'ipv4';
  const listed = await run('ip', [family === 'ipv6' ? '-6' : '-4', '-j', 'route', 'show'], {
    allowFailure: true,
  });
  const routes = (JSON.parse(listed.stdout || '[]') as { dst: string; dev?: string }[]).filter(
    (route) => route.dst !== 'default' && !route.dst.startsWith('fe80:') && !route.dst.startsWith('ff00:'),
  );
  for (const route of routes) {
    const [routeAddress = '', routeLength = family === 'ipv6' ? '128' : '32'] = route.dst.split('/');
    const ours = new BlockList();
    ours.addSubnet(networkOf(address, Number(length), family), Number(length), family);
    const theirs = new BlockList();
    theirs.addSubnet(networkOf(routeAddress, Number(routeLength), family), Number(routeLength), family);
    if (ours.check(routeAddress, family) || theirs.check(address, family)) {
      throw new Error(
        `${cidr} overlaps ${route.dst}, which this machine already routes (dev ${route.dev ?? '?'}); ` +
          'joining it would cut the machine off: use 198.51.100.0/24, 203.0.113.0/24 or 2001:db8::/32',
      );
    }
  }
}

function networkOf(address: string, length: number, family: 'ipv4' | 'ipv6'): string {
  if (family === 'ipv4') {
    const value = address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
    const masked = length === 0 ? 0n : value & (((1n << 32n) - 1n) ^ ((1n << BigInt(32 - length)) - 1n));
    return [24n, 16n, 8n, 0n].map((shift) => ((masked >> shift) & 255n).toString()).join('.');
  }
  return address; // BlockList masks IPv6 subnets itself when checking membership
}

const documentationV4 = [
  [192, 0, 2],
  [198, 51, 100],
  [203, 0, 113],
];

/** Throws unless the address or CIDR lies in a documentation range (RFC 5737, RFC 3849). */
export function assertDocumentationAddress(value: string): void {
  const [address = '', length] = value.split('/');
  if (address.includes(':')) {
    const lower = address.toLowerCase();
    if (lower.startsWith('2001:db8:') || lower.startsWith('2001:0db8:')) {
      if (length === undefined || Number(length) >= 32) return;
    }
  } else {
    const octets = address.split('.').map(Number);
    const inRange = documentationV4.some((range) => range.every((octet, i) => octets[i] === octet));
    if (inRange && octets.length === 4 && (length === undefined || Number(length) >= 24)) return;
  }
  throw new Error(`${value} is not in a documentation range; test hosts may use only those`);
}
