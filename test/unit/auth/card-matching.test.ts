// Each authenticator's card rule: the spellings its backend treats as one
// patron get one form, so the throttle counts them once.
import { describe, expect, it } from 'vitest';
import type { Authenticator } from '../../../src/auth/authenticator.ts';
import { canonicalCard } from '../../../src/auth/chain.ts';
import { FileAuthenticator } from '../../../src/auth/file/file-authenticator.ts';
import { canonicalLdapCard } from '../../../src/auth/ldap/card-matching.ts';
import { Sip2Authenticator } from '../../../src/auth/sip2/sip2-authenticator.ts';

const stub = (rule: (card: string) => string): Authenticator => ({
  id: 'stub',
  kind: 'stub',
  authenticate: async () => ({ kind: 'unavailable', cause: 'stub' }),
  canonicalCard: rule,
  close: async () => {},
});

describe('card matching', () => {
  it.each([
    ['caseIgnoreMatch', 'SprLib0077', 'sprlib0077'],
    ['caseIgnoreMatch', 'SPRLIB0077', 'sprlib0077'],
    ['caseIgnoreMatch', 'Straße1', 'strasse1'],
    ['caseIgnoreMatch', '21234000000001', '21234000000001'],
    ['caseExactMatch', 'SprLib0077', 'SprLib0077'],
  ] as const)('ldap %s: %s → %s', (rule, card, canonical) => {
    expect(canonicalLdapCard(rule, card)).toBe(canonical);
  });

  it.each([
    ['p123x', 'P123X'],
    ['P123x', 'P123X'],
    ['jörg', 'JORG'],
    ['21234000000001', '21234000000001'],
  ])('sip2: %s → %s (case and accents folded, as ILSs and ASCII SIP accounts do)', (card, canonical) => {
    // the rule uses no state of the instance
    expect(Sip2Authenticator.prototype.canonicalCard(card)).toBe(canonical);
  });

  it('file: exact, as the patron file is a map keyed by the card as written', () => {
    expect(FileAuthenticator.prototype.canonicalCard('P123x')).toBe('P123x');
  });

  it('uses the first authenticator’s rule for a library’s chain', () => {
    const upper = stub((c) => c.toUpperCase());
    const exact = stub((c) => c);
    expect(canonicalCard([upper, exact], 'ab1')).toBe('AB1');
    expect(canonicalCard([exact, upper], 'ab1')).toBe('ab1');
    expect(canonicalCard([], 'ab1')).toBe('ab1');
  });
});
