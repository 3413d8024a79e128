// Addresses the broker must not call on a vendor's say-so (SSRF): its own
// host, the networks behind it, and addresses that are no one host. Pure;
// used by the outbound connector after DNS, on the address actually dialled.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

type Kind = 'unspecified' | 'loopback' | 'private' | 'link-local' | 'multicast' | 'reserved';

const V4: [string, number, Kind][] = [
  ['0.0.0.0', 8, 'unspecified'], // "this network"
  ['10.0.0.0', 8, 'private'], // RFC 1918
  ['100.64.0.0', 10, 'private'], // RFC 6598 carrier-grade NAT
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'], // also cloud metadata services
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // and 255.255.255.255
];
const V6: [string, number, Kind][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'private'], // unique local
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'], // deprecated site-local
  ['ff00::', 8, 'multicast'],
];

const lists = new Map<Kind, BlockList>();
for (const [ranges, family] of [
  [V4, 'ipv4'],
  [V6, 'ipv6'],
] as const) {
  for (const [network, prefix, kind] of ranges) {
    const list = lists.get(kind) ?? new BlockList();
    list.addSubnet(network, prefix, family);
    lists.set(kind, list);
  }
}

// IPv6 forms that carry an IPv4 address the packet ends up at: mapped
// (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and the deprecated compatible form.
const EMBEDDED_V4 = /^(?:::ffff:|::ffff:0:|64:ff9b::|::)((?:\d{1,3}\.){3}\d{1,3})$/i;

function embeddedV4(address: string): string | undefined {
  const dotted = EMBEDDED_V4.exec(address)?.[1];
  if (dotted) return dotted;
  // The same, written in hex: ::ffff:7f00:1
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return undefined;
  const [high, low] = [Number.parseInt(hex[1] as string, 16), Number.parseInt(hex[2] as string, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

// What kind of special-use address this is, or undefined for an ordinary
// public one. Anything that is not an IP address is refused as "reserved":
// the caller dials addresses, never names.
export function specialUse(address: string): Kind | undefined {
  const plain = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const v4 = isIPv4(plain) ? plain : isIPv6(plain) ? embeddedV4(plain) : undefined;
  if (!v4 && !isIPv6(plain)) return 'reserved';
  const [value, family] = v4 ? [v4, 'ipv4' as const] : [plain, 'ipv6' as const];
  for (const [kind, list] of lists) if (list.check(value, family)) return kind;
  return undefined;
}
