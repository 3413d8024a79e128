// The addresses the broker refuses to dial for a vendor, in every spelling
// an attacker can choose: IPv4, IPv6, IPv4-mapped and NAT64 IPv6, zones.
import { describe, expect, it } from 'vitest';
import { specialUse } from '../../../src/security/special-addresses.ts';

describe('specialUse', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12::1', 'private'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['::ffff:192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['localhost', 'reserved'],
  ])('%s is %s', (address, kind) => expect(specialUse(address)).toBe(kind));

  it.each(['8.8.8.8', '172.32.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8'])(
    '%s is an ordinary public address',
    (address) => expect(specialUse(address)).toBeUndefined(),
  );
});
