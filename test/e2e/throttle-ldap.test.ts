// One counter per patron, not per spelling: a directory finds `uid` with
// caseIgnoreMatch, so every capitalisation of a card is the same patron and
// must share one throttling counter. On a real slapd.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticator, AuthResult } from '../../src/auth/authenticator.ts';
import { startLogin, submitLogin, type Vendor, vendor } from '../support/broker.ts';
import { type Slapd, slapdAvailable, startSlapd } from '../support/slapd.ts';
import { useBroker } from '../support/use-broker.ts';

const PATRON = { uid: 'SprLib0077', pin: '4321' };
const SPELLINGS = ['SprLib0077', 'sprlib0077', 'SPRLIB0077', 'sPRlIB0077', 'SpRlIb0077', 'sprLIB0077'];

describe.skipIf(!slapdAvailable())('throttle with an LDAP-backed library', () => {
  let slapd: Slapd;
  let v: Vendor;
  let checks = 0;
  afterAll(async () => {
    await slapd?.dispose();
  });
  const b = useBroker(async () => {
    slapd = await startSlapd({ patrons: [PATRON] });
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
                filter: '(uid={card})',
                connectTimeout: 2,
                timeout: 5,
              },
            ],
          },
        ],
      },
    };
  });
  beforeAll(async () => {
    v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const ldap = b.broker.libraries.get('springfield')?.chain[0] as Authenticator;
    const real = ldap.authenticate.bind(ldap);
    ldap.authenticate = (credentials): Promise<AuthResult> => {
      checks++;
      return real(credentials);
    };
  });

  const attempt = async (card: string, pin: string) => submitLogin(await startLogin(v, b.issuer), b.issuer, card, pin);

  it('counts six spellings of one card on one counter; the 11th attempt, any spelling, never reaches the directory', async () => {
    // the directory itself treats the spellings as one patron
    for (const card of SPELLINGS.slice(0, 2)) {
      expect((await attempt(card, PATRON.pin)).leftFor).toMatch(/code=/);
    }
    checks = 0;
    for (let i = 0; i < 10; i++) {
      const answer = await attempt(SPELLINGS[i % SPELLINGS.length] as string, String(1000 + i));
      expect(answer.response.status).toBe(200);
      expect(answer.body).toContain('The card number or PIN is not right.');
    }
    expect(checks).toBe(10);
    const binds = await slapd.operations('Bind');
    for (const card of [...SPELLINGS, 'SPRlib0077']) {
      const refused = await attempt(card, PATRON.pin);
      expect(refused.leftFor).toBeUndefined();
      expect(refused.response.status).toBe(429);
    }
    expect(checks).toBe(10);
    // back-monitor counts its own bind for each query: one more, nothing else
    expect(await slapd.operations('Bind')).toBe(binds + 1);
    // The sysadmin follows one card through the log, whatever its spelling:
    // sign-ins, wrong PINs and refusals carry one handle.
    const handles = new Set(
      b.logs
        .flatMap((chunk) => chunk.split('\n'))
        .filter((line) => line.includes('"event":"login"'))
        .map((line) => (JSON.parse(line) as { cardHash?: string }).cardHash),
    );
    expect(handles.size).toBe(1);
  });
});
