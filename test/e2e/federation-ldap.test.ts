// The consortium with one library on a real directory: routing by card
// prefix to the LDAP library, the same broker serving file-backed libraries,
// and the directory going down while the other libraries keep answering.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startLogin, submitLogin, type Vendor, vendor } from '../support/broker.ts';
import { CITY_OLD, consortium, NORTH_PATRON, writeConsortiumPatrons } from '../support/consortium.ts';
import { generatePatrons, type Slapd, slapdAvailable, startSlapd } from '../support/slapd.ts';
import { useBroker } from '../support/use-broker.ts';

describe.skipIf(!slapdAvailable())('federation with an LDAP-backed library', () => {
  let slapd: Slapd;
  let v: Vendor;
  const [student] = generatePatrons(1);

  afterAll(async () => {
    await slapd?.dispose();
  });
  const b = useBroker(async ({ dir }) => {
    await writeConsortiumPatrons(dir);
    slapd = await startSlapd({ generate: 3 });
    const secret = join(dir, 'ldap-password');
    writeFileSync(secret, slapd.servicePassword, { mode: 0o600 });
    const config = consortium(dir);
    config.realms?.push({ id: 'campus', scope: 'university.example.edu' });
    config.libraries?.push({
      id: 'university',
      name: 'University Library',
      realm: 'campus',
      cardPatterns: ['2900'],
      authenticators: [
        {
          id: 'campus-ldap',
          kind: 'ldap',
          urls: [slapd.url],
          allowInsecure: true,
          bindDn: slapd.serviceDn,
          bindPassword: { file: secret },
          baseDn: slapd.patronsDn,
          filter: '(uid={card})',
          connectTimeout: 1,
          timeout: 2,
        },
      ],
    });
    return { config };
  });
  beforeAll(async () => {
    rmSync(join(b.dir, 'missing.yaml'));
    v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
  });

  it('routes a card to the directory-backed library by prefix and signs in there', async () => {
    const { tokens } = await login(v, b.issuer, student?.uid as string, student?.pin as string);
    expect(tokens.claims()?.sub).toMatch(/@university\.example\.edu$/);
  });

  it('keeps the other libraries answering while the directory is down, and tells its patrons the truth', async () => {
    await slapd.stop({ crash: true });
    try {
      expect((await login(v, b.issuer, NORTH_PATRON.card, NORTH_PATRON.pin)).tokens.claims()?.sub).toBeTruthy();
      expect((await login(v, b.issuer, CITY_OLD.card, CITY_OLD.pin)).tokens.claims()?.sub).toBeTruthy();
      const started = await startLogin(v, b.issuer);
      const down = await submitLogin(started, b.issuer, student?.uid as string, student?.pin as string);
      expect(down.leftFor).toBeUndefined();
      expect(down.response.status).toBe(503);
      expect(down.body).toContain('not answering');
      const warn = b.logs
        .map((l) => JSON.parse(l))
        .find((l) => l.outcome === 'unavailable' && l.library === 'university');
      expect(warn).toMatchObject({ authenticator: 'campus-ldap', level: 'warn' });
    } finally {
      await slapd.start();
    }
    const { tokens } = await login(v, b.issuer, student?.uid as string, student?.pin as string);
    expect(tokens.claims()?.sub).toMatch(/@university\.example\.edu$/);
  });
});
