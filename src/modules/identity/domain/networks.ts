import { BlockList, isIP } from 'node:net';

/**
 * Address-in-networks checks for "where from" rules. An IPv4 client seen through an IPv6 socket
 * (`::ffff:192.0.2.1`) is the IPv4 address.
 */
export function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

export function networkList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/');
    const family = isIP(net ?? '');
    if (family === 0) throw new Error(`'${cidr}' is not an address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new Error(`'${cidr}' has an invalid prefix length`);
    }
    list.addSubnet(net!, prefix, type);
  }
  return list;
}

export function addressIn(address: string, cidrs: readonly string[] | BlockList): boolean {
  const ip = normaliseAddress(address);
  const family = isIP(ip);
  if (family === 0) return false;
  const list = cidrs instanceof BlockList ? cidrs : networkList(cidrs);
  return list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}
