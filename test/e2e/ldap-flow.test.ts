// The whole sign-in flow for a library whose patrons live in a directory:
// openid-client as the vendor, the broker on a loopback port, a real slapd.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE, REPLACEMENT_CARD } from '../integration/ldap/harness.ts';
import { login, startLogin, submitLogin, type Vendor, vendor } from '../support/broker.ts';
import { expectNoPins } from '../support/leaks.ts';
import { FIXTURE_PATRONS, type Slapd, slapdAvailable, startSlapd } from '../support/slapd.ts';
import { useBroker } from '../support/use-broker.ts';

describe.skipIf(!slapdAvailable())('sign-in with an LDAP-backed library', () => {
  let slapd: Slapd;
  let v: Vendor;
  afterAll(async () => {
    await slapd?.dispose();
  });
  const b = useBroker(async () => {
    slapd = await startSlapd({ patrons: FIXTURE_PATRONS });
    const secret = join(slapd.dir, 'service-password');
    writeFileSync(secret, `${slapd.servicePassword}\n`, { mode: 0o600 });
    return {
      config: {
        libraries: [
          {
            id: 'springfield',
            name: 'Springfield Public Library',
            realm: 'springfield',
            authenticators: [
              {
                id: 'springfield-ldap',
                kind: 'ldap',
                urls: [slapd.url],
                allowInsecure: true,
                bindDn: slapd.serviceDn,
                bindPassword: { file: secret },
                baseDn: slapd.patronsDn,
                filter: '(|(uid={card})(employeeNumber={card}))',
                eligibilityFilter: '(!(patronStatus=blocked))',
                expiry: { attribute: 'patronExpires', format: 'generalizedTime' },
                connectTimeout: 1,
                timeout: 2,
              },
            ],
          },
        ],
      },
    };
  });
  beforeAll(async () => {
    v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
  });

  async function attempt(card: string, pin: string) {
    return submitLogin(await startLogin(v, b.issuer), b.issuer, card, pin);
  }

  it('signs a directory patron in, with a pairwise pseudonym that survives a card replacement', async () => {
    const first = (await login(v, b.issuer, FIXTURE.active.card, FIXTURE.active.pin)).tokens.claims();
    expect(first?.sub).toMatch(/^[a-z2-7]{52}@springfield\.example\.org$/);
    const replaced = (await login(v, b.issuer, REPLACEMENT_CARD.card, REPLACEMENT_CARD.pin)).tokens.claims();
    expect(replaced?.sub).toBe(first?.sub);
    const other = (await login(v, b.issuer, FIXTURE.otherActive.card, FIXTURE.otherActive.pin)).tokens.claims();
    expect(other?.sub).not.toBe(first?.sub);
    const v2 = await vendor(b.issuer, 'demo-vendor-2', 'demo-vendor-secret');
    const elsewhere = (await login(v2, b.issuer, FIXTURE.active.card, FIXTURE.active.pin)).tokens.claims();
    expect(elsewhere?.sub).not.toBe(first?.sub);
  });

  it.each([
    ['wrong PIN', FIXTURE.wrongPin, 'The card number or PIN is not right.'],
    ['unknown card', FIXTURE.unknownCard, 'The card number or PIN is not right.'],
    ['blocked card', FIXTURE.blocked, 'This card cannot be used to sign in at the moment.'],
    ['expired card', FIXTURE.expired, 'This card has expired.'],
    ['injection attempt', { card: '*)(uid=*', pin: FIXTURE.active.pin }, 'The card number or PIN is not right.'],
  ])('%s: the form again with the patron’s sentence, and no code', async (_name, credentials, sentence) => {
    const { response, body, leftFor } = await attempt(credentials.card, credentials.pin);
    expect(leftFor).toBeUndefined();
    expect(response.status).toBe(200);
    expect(body).toContain(sentence);
  });

  it('a stopped directory is "not answering" for the patron and a cause for the sysadmin; then it recovers', async () => {
    await slapd.stop({ crash: true });
    try {
      const { response, body, leftFor } = await attempt(FIXTURE.active.card, FIXTURE.active.pin);
      expect(leftFor).toBeUndefined();
      expect(response.status).toBe(503);
      expect(body).toContain('Your library&#39;s system is not answering');
      expect(body).not.toContain('ECONNREFUSED');
      const line = b.logs.map((l) => JSON.parse(l)).find((l) => l.outcome === 'unavailable');
      expect(line).toMatchObject({ authenticator: 'springfield-ldap', library: 'springfield' });
      expect(line.cause).toBe(`ldap: ${slapd.url} connect refused (ECONNREFUSED)`);
    } finally {
      await slapd.start();
    }
    expect((await attempt(FIXTURE.active.card, FIXTURE.active.pin)).leftFor).toMatch(/code=/);
  });

  it('logs no card, PIN, DN or directory value', () => {
    const text = b.logs.join('');
    expect(text).toContain('springfield-ldap');
    for (const secret of [
      FIXTURE.active.card,
      FIXTURE.blocked.card,
      FIXTURE.unknownCard.card,
      REPLACEMENT_CARD.card,
      'uid=',
      'ada@example.org',
      slapd.servicePassword,
    ]) {
      expect(text).not.toContain(secret);
    }
    expectNoPins(text, ['1234', '9999', '3456']);
  });
});
