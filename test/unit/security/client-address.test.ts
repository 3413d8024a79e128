import { describe, expect, it } from 'vitest';
import { addressRanges } from '../../../src/libraries/library.ts';
import { clientAddress } from '../../../src/security/client-address.ts';

const trusted = addressRanges(['10.0.0.0/8', '::1/128']);

describe('client address', () => {
  const cases: [string, string | undefined, string][] = [
    ['203.0.113.5', undefined, '203.0.113.5'],
    ['203.0.113.5', '198.51.100.1', '203.0.113.5'], // not from a proxy: header ignored
    ['10.0.0.2', '198.51.100.1', '198.51.100.1'],
    ['10.0.0.2', '192.0.2.9, 198.51.100.1', '198.51.100.1'], // rightmost untrusted hop
    ['10.0.0.2', '198.51.100.1, 10.0.0.7', '198.51.100.1'], // skips trusted hops
    ['10.0.0.2', 'not-an-ip, 198.51.100.1', '198.51.100.1'],
    ['10.0.0.2', '198.51.100.1, garbage', '10.0.0.2'], // garbage nearest: believe nothing
    ['::1', '2001:db8::7', '2001:db8::7'],
  ];
  for (const [peer, header, expected] of cases) {
    it(`${peer} with X-Forwarded-For ${JSON.stringify(header)} → ${expected}`, () => {
      expect(clientAddress(peer, header, trusted)).toBe(expected);
    });
  }
});
