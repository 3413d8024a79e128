// Shared by the LDAP integration tests: the fixture's credentials and
// authenticators built over a running test slapd.

import { LdapAuthenticator } from '../../../src/auth/ldap/ldap-authenticator.ts';
import { ldapOptionsSchema } from '../../../src/auth/ldap/options.ts';
import type { AuthenticatorFixture } from '../../conformance/authenticator.suite.ts';
import { CONFORMANCE_CARDS } from '../../conformance/cards.ts';
import type { Slapd } from '../../support/slapd.ts';

export const FIXTURE: AuthenticatorFixture = CONFORMANCE_CARDS;
export const LOCKED = { card: '21234000000005', pin: '5678' };
export const DUPLICATE = { card: '21234000000006', pin: '1111' };
export const FUTURE_EXPIRY = { card: '21234000000007', pin: '6789' };
export const REPLACEMENT_CARD = { card: 'R1001', pin: '1234' }; // employeeNumber of the active patron

const CARD_FILTER = '(|(uid={card})(employeeNumber={card}))';
const ELIGIBLE = '(!(patronStatus=blocked))';

export interface Built {
  authenticator: LdapAuthenticator;
  warnings: string[];
}

// Options over the slapd's plain port (allowInsecure: loopback only) with
// the service account, search mode; `extra` overrides any key.
export function build(slapd: Slapd, extra: Record<string, unknown> = {}): Built {
  const warnings: string[] = [];
  const options = ldapOptionsSchema.parse({
    urls: [slapd.url],
    allowInsecure: true,
    bindDn: slapd.serviceDn,
    bindPassword: slapd.servicePassword,
    baseDn: slapd.patronsDn,
    filter: CARD_FILTER,
    eligibilityFilter: ELIGIBLE,
    expiry: { attribute: 'patronExpires', format: 'generalizedTime' },
    attributes: ['mail'],
    connectTimeout: 1,
    timeout: 2,
    ...extra,
  });
  const authenticator = new LdapAuthenticator('test-ldap', options, {
    pinPepper: Buffer.alloc(32),
    warn: (m) => warnings.push(m),
  });
  return { authenticator, warnings };
}

export const DIRECT = {
  mode: 'direct',
  baseDn: undefined,
  filter: undefined,
  dnTemplate: 'uid={card},ou=patrons,dc=library,dc=org',
};
