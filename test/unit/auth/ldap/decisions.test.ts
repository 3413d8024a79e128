import { describe, expect, it } from 'vitest';
import { failedBindOutcome, lockedAfterBind } from '../../../../src/auth/ldap/bind-outcome.ts';
import type { Entry } from '../../../../src/auth/ldap/connection.ts';
import { dnOf, stableIdOf } from '../../../../src/auth/ldap/entry.ts';
import { type ExpiryFormat, isExpired, parseExpiry } from '../../../../src/auth/ldap/expiry.ts';
import { judge } from '../../../../src/auth/ldap/judge.ts';
import { parseLdapUrl } from '../../../../src/auth/ldap/ldap-url.ts';

const at = (iso: string) => ({ at: Date.parse(iso) });

describe('expiry values', () => {
  it.each<[string, ExpiryFormat, ReturnType<typeof parseExpiry>]>([
    ['20250102030405Z', 'generalizedTime', at('2025-01-02T03:04:05Z')],
    ['202501020304Z', 'generalizedTime', at('2025-01-02T03:04:00Z')],
    ['2025010203Z', 'generalizedTime', at('2025-01-02T03:00:00Z')],
    ['20250102030405.5Z', 'generalizedTime', at('2025-01-02T03:04:05.500Z')],
    ['2025010203,25Z', 'generalizedTime', at('2025-01-02T03:15:00Z')], // fraction of the hour
    ['20250102030405+0200', 'generalizedTime', at('2025-01-02T01:04:05Z')],
    ['20250102030405-05', 'generalizedTime', at('2025-01-02T08:04:05Z')],
    ['20250102030405', 'generalizedTime', 'invalid'], // RFC 4517 requires a time zone
    ['20251302030405Z', 'generalizedTime', 'invalid'],
    ['20250230000000Z', 'generalizedTime', 'invalid'],
    ['2025-01-02', 'generalizedTime', 'invalid'],
    ['2025-01-02', 'date', at('2025-01-02T23:59:59.999Z')],
    ['20250102', 'date', at('2025-01-02T23:59:59.999Z')],
    ['2025-02-30', 'date', 'invalid'],
    ['02/01/2025', 'date', 'invalid'],
    ['0', 'filetime', 'never'],
    ['9223372036854775807', 'filetime', 'never'],
    ['133801632000000000', 'filetime', at('2025-01-01T00:00:00Z')],
    ['-1', 'filetime', 'invalid'],
  ])('%s as %s', (value, format, expected) => {
    expect(parseExpiry(value, format)).toEqual(expected);
  });

  it('is expired from the instant itself, never for "never" or "invalid"', () => {
    const now = Date.parse('2025-01-02T00:00:00Z');
    expect(isExpired({ at: now }, now)).toBe(true);
    expect(isExpired({ at: now + 1 }, now)).toBe(false);
    expect(isExpired('never', now)).toBe(false);
    expect(isExpired('invalid', now)).toBe(false);
  });
});

describe('failed patron binds', () => {
  const invalid = { code: 49, message: 'Invalid Credentials' };
  it.each([
    [invalid, undefined, { reason: 'bad-credentials' }],
    [{ ...invalid, ppolicyError: 1 }, undefined, { reason: 'blocked' }],
    [{ ...invalid, ppolicyError: 0 }, undefined, { reason: 'blocked', detail: 'PIN expired (password policy)' }],
    [{ ...invalid, ppolicyError: 8 }, undefined, { reason: 'bad-credentials' }],
    [invalid, '20250101000000Z', { reason: 'blocked' }],
    [
      { code: 49, message: '80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563' },
      undefined,
      { reason: 'bad-credentials' },
    ],
    [
      { code: 49, message: '80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563' },
      undefined,
      { reason: 'blocked' },
    ],
    [
      { code: 49, message: '80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 533, v4563' },
      undefined,
      { reason: 'blocked' },
    ],
    [
      { code: 49, message: '80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 701, v4563' },
      undefined,
      { reason: 'expired' },
    ],
    [
      { code: 49, message: '80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 525, v4563' },
      undefined,
      { reason: 'unknown-card' },
    ],
    [
      { code: 53, message: 'unauthenticated bind (DN with no password) disallowed' },
      undefined,
      { unavailable: 'bind as patron refused: unwilling to perform (53)' },
    ],
    [{ code: 51, message: 'busy' }, undefined, { unavailable: expect.any(String) }],
    [{ code: 34, message: 'invalid DN' }, undefined, { reason: 'unknown-card' }],
  ])('%j with lock %j', (bind, locked, expected) => {
    expect(failedBindOutcome(bind, locked)).toMatchObject(expected);
  });

  it('after a successful bind, only an administrative lock counts', () => {
    expect(lockedAfterBind('000001010000Z')).toBe(true);
    expect(lockedAfterBind('20250101000000Z')).toBe(false);
    expect(lockedAfterBind(undefined)).toBe(false);
  });
});

const entry = (attrs: Record<string, (string | Buffer)[]>, dn = 'uid=1,ou=patrons,dc=x'): Entry => ({
  dn,
  attributes: new Map(Object.entries(attrs).map(([k, v]) => [k.toLowerCase(), v.map((x) => Buffer.from(x))])),
});

describe('reading entries', () => {
  it('binds as the DN the server wrote, from entryDN or distinguishedName first', () => {
    expect(dnOf(entry({ entryDN: ['uid=a\\+b,dc=x'] }, 'uid=a,dc=x'))).toBe('uid=a\\+b,dc=x');
    expect(dnOf(entry({ distinguishedName: ['CN=Ada,DC=x'] }))).toBe('CN=Ada,DC=x');
    expect(dnOf(entry({}, 'uid=9,dc=x'))).toBe('uid=9,dc=x');
  });

  it.each([
    [
      { entryUUID: ['d46eec30-7bbf-1041-8e58-df4560025475'] },
      'entryUUID',
      { ok: true, value: 'd46eec30-7bbf-1041-8e58-df4560025475' },
    ],
    [{ ENTRYUUID: ['X'] }, 'entryUuid', { ok: true, value: 'X' }],
    [{}, 'entryUUID', { ok: false }],
    [{ uid: ['1', '2'] }, 'uid', { ok: false }],
    [
      { objectGUID: [Buffer.from('00112233445566778899aabbccddeeff', 'hex')] },
      'objectGUID',
      { ok: true, value: '33221100-5544-7766-8899-aabbccddeeff' },
    ],
    [{ nsUniqueId: [Buffer.from([0xff, 0x00, 0x10])] }, 'nsUniqueId', { ok: true, value: 'b64:_wAQ' }],
  ])('stableId from %j (%s)', (attrs, attribute, expected) => {
    expect(stableIdOf(entry(attrs), attribute)).toMatchObject(expected);
  });

  const options = {
    stableIdAttribute: 'entryUUID',
    expiry: { attribute: 'patronExpires', format: 'generalizedTime' as const },
    attributes: ['mail', 'absent'],
  };
  const now = Date.parse('2025-06-01T00:00:00Z');
  it.each([
    [
      { entryUUID: ['u1'], mail: ['a@x'] },
      true,
      { kind: 'ok', patron: { stableId: 'u1', attributes: { mail: ['a@x'] } } },
    ],
    [{ entryUUID: ['u1'] }, false, { kind: 'denied', reason: 'blocked' }],
    [{ entryUUID: ['u1'], pwdAccountLockedTime: ['000001010000Z'] }, true, { kind: 'denied', reason: 'blocked' }],
    [{ entryUUID: ['u1'], patronExpires: ['20250101000000Z'] }, true, { kind: 'denied', reason: 'expired' }],
    [{ entryUUID: ['u1'], patronExpires: ['20250101000000Z'] }, false, { kind: 'denied', reason: 'blocked' }],
    [{ entryUUID: ['u1'], patronExpires: ['20990101000000Z'] }, true, { kind: 'ok' }],
    [
      { entryUUID: ['u1'], patronExpires: ['next tuesday'] },
      true,
      { kind: 'unavailable', cause: expect.not.stringContaining('tuesday') },
    ],
    [{ mail: ['a@x'] }, true, { kind: 'unavailable', cause: expect.stringContaining('"entryUUID"') }],
  ])('judges %j (eligible %s)', (attrs, eligible, expected) => {
    expect(judge(entry(attrs), eligible, options, now)).toMatchObject(expected);
  });
});

describe('LDAP URLs', () => {
  it.each([
    ['ldaps://ldap.example.org', { server: 'ldaps://ldap.example.org:636', secure: true, port: 636 }],
    ['ldap://LDAP.example.org:3890/', { server: 'ldap://ldap.example.org:3890', secure: false }],
    ['ldap://[::1]:389', { server: 'ldap://[::1]:389', host: '::1' }],
    [
      'ldaps://ldap.example.org/ou=patrons,dc=library,dc=org?uid?sub?(objectClass=person)',
      {
        search: { baseDn: 'ou=patrons,dc=library,dc=org', scope: 'sub', filter: '(&(objectClass=person)(uid={card}))' },
      },
    ],
    [
      'ldaps://h/ou=p%2Cdc=x?employeeNumber?one',
      { search: { baseDn: 'ou=p,dc=x', scope: 'one', filter: '(employeeNumber={card})' } },
    ],
    ['ldaps://h/dc=x', { search: { baseDn: 'dc=x', scope: 'sub', filter: '(uid={card})' } }],
    ['ldaps://h/dc=x??sub?objectClass=person', { search: { filter: '(&(objectClass=person)(uid={card}))' } }],
    ['ldaps://h/dc=x???(|(uid={card})(mail={card}))', { search: { filter: '(|(uid={card})(mail={card}))' } }],
  ])('%s', (text, expected) => {
    expect(parseLdapUrl(text)).toMatchObject(expected);
  });

  it.each([
    ['http://ldap.example.org', /not an LDAP URL/],
    ['ldap://', /not an LDAP URL/],
    ['ldap://h:99999', /port out of range/],
    ['ldaps://h/dc=x?uid,mail', /names 2 attributes/],
    ['ldaps://h/dc=x?uid?base', /scope "base"/],
    ['ldaps://h/dc=x?uid?sub?(x=1)?!bindname=x', /extensions/],
    ['ldaps://h/%E0%A4%A', /percent-encoding/],
  ])('refuses %s', (text, problem) => {
    expect(() => parseLdapUrl(text)).toThrow(problem);
  });
});
