// The conformance cards and PINs, once: the demo patrons of ARCHITECTURE.md
// (active, a second active, blocked, expired) that every backend's fixture
// (patron file, slapd LDIF, SIP2 simulator) carries, plus a wrong PIN and a
// card no backend knows.
import type { AuthenticatorFixture } from './authenticator.suite.ts';

export const CONFORMANCE_CARDS = {
  active: { card: '21234000000001', pin: '1234' },
  otherActive: { card: '21234000000002', pin: '2345' },
  wrongPin: { card: '21234000000001', pin: '9999' },
  unknownCard: { card: '29999999999999', pin: '1234' },
  blocked: { card: '21234000000003', pin: '3456' },
  expired: { card: '21234000000004', pin: '4567' },
} as const satisfies AuthenticatorFixture;
