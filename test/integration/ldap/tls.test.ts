// Transport security against a slapd with a certificate from a CA the test
// generates: LDAPS and StartTLS verify by default; a wrong CA or host name
// is an outage with the reason, never a wrong PIN.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LdapAuthenticator } from '../../../src/auth/ldap/ldap-authenticator.ts';
import { ldapOptionsSchema } from '../../../src/auth/ldap/options.ts';
import { PatronymError } from '../../../src/errors.ts';
import { FIXTURE_PATRONS, type Slapd, slapdAvailable, startSlapd } from '../../support/slapd.ts';
import { build, FIXTURE } from './harness.ts';

describe.skipIf(!slapdAvailable())('ldap over TLS', () => {
  let slapd: Slapd;
  beforeAll(async () => {
    slapd = await startSlapd({ patrons: FIXTURE_PATRONS, tls: true });
  });
  afterAll(async () => {
    await slapd?.dispose();
  });

  const ldaps = (tls: Record<string, unknown>) => build(slapd, { urls: [slapd.ldapsUrl], allowInsecure: false, tls });
  const startTls = (tls: Record<string, unknown>) =>
    build(slapd, { urls: [slapd.url], allowInsecure: false, tls: { startTls: true, ...tls } });

  async function outcome(built: ReturnType<typeof build>) {
    try {
      return await built.authenticator.authenticate(FIXTURE.active);
    } finally {
      await built.authenticator.close();
    }
  }

  it('logs in over LDAPS, verifying the server against the configured CA', async () => {
    const built = ldaps({ ca: slapd.caFile });
    expect(await built.authenticator.check()).toMatch(/^ok {3}ldaps:\/\/127\.0\.0\.1:\d+ \(tls\): bound as/);
    expect((await outcome(built)).kind).toBe('ok');
    expect(built.warnings).toEqual([]);
  });

  it('logs in over StartTLS, verifying the server against the configured CA', async () => {
    const built = startTls({ ca: slapd.caFile });
    expect(await built.authenticator.check()).toMatch(/^ok {3}ldap:\/\/127\.0\.0\.1:\d+ \(starttls\): bound as/);
    expect((await outcome(built)).kind).toBe('ok');
  });

  it.each([
    ['LDAPS', () => ldaps({ ca: slapd.wrongCaFile })],
    ['StartTLS', () => startTls({ ca: slapd.wrongCaFile })],
    ['LDAPS with the system CAs', () => ldaps({})],
  ])('%s with a CA that did not sign the server certificate: unavailable, saying why', async (_name, make) => {
    const result = await outcome(make());
    expect(result).toMatchObject({
      kind: 'unavailable',
      cause: expect.stringMatching(
        /tls failed: .*\((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/,
      ),
    });
  });

  it('checks the host name too', async () => {
    const result = await outcome(ldaps({ ca: slapd.caFile, servername: 'ldap.elsewhere.example' }));
    expect(result).toMatchObject({
      kind: 'unavailable',
      cause: expect.stringContaining('(ERR_TLS_CERT_ALTNAME_INVALID)'),
    });
  });

  it('skips verification only when told, and warns the sysadmin', async () => {
    const built = ldaps({ ca: slapd.wrongCaFile, rejectUnauthorized: false });
    expect((await outcome(built)).kind).toBe('ok');
    expect(built.warnings.join('\n')).toContain('does not verify server certificates');
  });

  it('fails over past a server whose certificate does not verify; check() names the failure per server', async () => {
    const { authenticator } = build(slapd, {
      urls: [slapd.ldapsUrl, slapd.url],
      allowInsecure: true,
      tls: { ca: slapd.wrongCaFile },
    });
    try {
      expect((await authenticator.authenticate(FIXTURE.active)).kind).toBe('ok');
      const error = await authenticator.check().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PatronymError);
      const lines = (error as Error).message.split('\n');
      expect(lines[0]).toBe('ldap: "test-ldap": 1 of 2 servers failed');
      expect(lines[1]).toMatch(new RegExp(`^FAIL ${slapd.ldapsUrl} \\(tls\\): tls failed: `));
      expect(lines[2]).toMatch(new RegExp(`^ok {3}${slapd.url} \\(plain, insecure\\): bound as`));
    } finally {
      await authenticator.close();
    }
  });

  it('refuses an unreadable CA file at start-up', () => {
    const options = ldapOptionsSchema.parse({
      urls: [slapd.ldapsUrl],
      baseDn: slapd.patronsDn,
      filter: '(uid={card})',
      tls: { ca: '/nonexistent/ca.pem' },
    });
    expect(() => new LdapAuthenticator('t', options, { pinPepper: Buffer.alloc(1), warn: () => {} })).toThrow(
      'ldap: cannot read tls.ca "/nonexistent/ca.pem" (ENOENT)',
    );
  });
});
