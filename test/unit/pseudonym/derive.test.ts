// Pinned vectors: if any of these change, every patron's pseudonym at every
// vendor changes. Do not update them to make a refactor pass.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { lengthPrefixed } from '../../../src/crypto/length-prefixed.ts';
import { base32lower, deriveAccountId, derivePseudonym } from '../../../src/pseudonym/derive.ts';
import { createHandles } from '../../../src/pseudonym/handle.ts';
import { sectorOf } from '../../../src/pseudonym/sector.ts';

const accountKey = Buffer.alloc(32, 1);
const pairwiseKey = Buffer.alloc(32, 2);
const ACCOUNT = '850FB7_scrpMZCTa2-9WvS_4wM6tHWlKbXs-J-WI5h4';

describe('pseudonym derivation', () => {
  it('pins accountId = base64url(HMAC-SHA256(accountKey, lp(realm) ‖ lp(stableId)))', () => {
    expect(deriveAccountId(accountKey, 'springfield', 'demo-patron-0001')).toBe(ACCOUNT);
    // The same computed by hand, byte by byte.
    const manual = createHmac('sha256', accountKey)
      .update(
        Buffer.concat([
          Buffer.from([0, 0, 0, 11]),
          Buffer.from('springfield'),
          Buffer.from([0, 0, 0, 16]),
          Buffer.from('demo-patron-0001'),
        ]),
      )
      .digest('base64url');
    expect(manual).toBe(ACCOUNT);
  });

  it('pins sub = base32lower(HMAC(pairwiseKey, lp(sector) ‖ lp(accountId) ‖ lp(generation))) @ scope', () => {
    const input = { sector: 'localhost', accountId: ACCOUNT, generation: 0, scope: 'springfield.example.org' };
    expect(derivePseudonym(pairwiseKey, input)).toBe(
      'xemxec4nloren5l7jqiwfgnvznir32cvapzy3nl2f4wqinnysa3a@springfield.example.org',
    );
    expect(derivePseudonym(pairwiseKey, { ...input, generation: 1 })).toBe(
      'sfvdj6kbeeqgpgrxlckd5kbbybonm2lgcmbkuzhq6ifsmrvq2fma@springfield.example.org',
    );
    expect(derivePseudonym(pairwiseKey, { ...input, sector: '127.0.0.1' })).toBe(
      'tdfgkphlmy4i3uo3g427zb37tspemsiagwgrbccfufy7ycjhqcxa@springfield.example.org',
    );
  });

  it('is a valid SAML pairwise-id: lower case uniqueID@scope', () => {
    const sub = derivePseudonym(pairwiseKey, {
      sector: 'Vendor.Example',
      accountId: ACCOUNT,
      generation: 0,
      scope: 'Lib.Example.ORG',
    });
    expect(sub).toMatch(/^[a-z2-7]{52}@lib\.example\.org$/);
    expect(sub).toBe(
      derivePseudonym(pairwiseKey, {
        sector: 'vendor.example',
        accountId: ACCOUNT,
        generation: 0,
        scope: 'lib.example.org',
      }),
    );
  });

  it('separates realms and never contains the stable id or card', () => {
    const a = deriveAccountId(accountKey, 'springfield', '21234000000001');
    const b = deriveAccountId(accountKey, 'shelbyville', '21234000000001');
    expect(a).not.toBe(b);
    expect(a).not.toContain('21234000000001');
    // length prefixes keep ("ab","c") and ("a","bc") apart
    expect(deriveAccountId(accountKey, 'ab', 'c')).not.toBe(deriveAccountId(accountKey, 'a', 'bc'));
    expect(lengthPrefixed(['ab', 'c']).equals(lengthPrefixed(['a', 'bc']))).toBe(false);
  });

  it('refuses a negative or fractional generation', () => {
    for (const generation of [-1, 0.5, Number.NaN]) {
      expect(() =>
        derivePseudonym(pairwiseKey, { sector: 's', accountId: ACCOUNT, generation, scope: 'x.org' }),
      ).toThrow(/generation/);
    }
  });

  it('encodes base32 as RFC 4648 does (lower case, no padding)', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'my'],
      ['fo', 'mzxq'],
      ['foo', 'mzxw6'],
      ['foob', 'mzxw6yq'],
      ['fooba', 'mzxw6ytb'],
      ['foobar', 'mzxw6ytboi'],
    ];
    for (const [input, output] of vectors) expect(base32lower(Buffer.from(input))).toBe(output);
  });
});

describe('sector identifier (OIDC Core 8.1)', () => {
  it('is the registered sector_identifier_uri host, else the one redirect host, without port', () => {
    expect(sectorOf({ redirectUris: ['http://localhost:3001/callback'] })).toBe('localhost');
    expect(sectorOf({ redirectUris: ['https://a.vendor.example:8443/cb', 'https://A.vendor.example/cb2'] })).toBe(
      'a.vendor.example',
    );
    expect(
      sectorOf({
        sectorIdentifierUri: 'https://vendor.example/sector.json',
        redirectUris: ['https://a.example/cb', 'https://b.example/cb'],
      }),
    ).toBe('vendor.example');
    expect(() => sectorOf({ redirectUris: ['https://a.example/cb', 'https://b.example/cb'] })).toThrow(
      /sector_identifier_uri/,
    );
  });
});

describe('log handles', () => {
  it('are short, keyed, and differ by realm', () => {
    const h = createHandles(accountKey);
    expect(h.card('springfield', '21234000000001')).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(h.card('springfield', '21234000000001')).toBe(h.card('springfield', '21234000000001'));
    expect(h.card('shelbyville', '21234000000001')).not.toBe(h.card('springfield', '21234000000001'));
    expect(createHandles(pairwiseKey).card('springfield', '21234000000001')).not.toBe(
      h.card('springfield', '21234000000001'),
    );
    expect(h.account(ACCOUNT)).not.toBe(ACCOUNT.slice(0, 12));
  });
});
