// The ldap authenticator against a real OpenLDAP (test/support/slapd.ts):
// the shared conformance suite in both modes, then what is particular to
// directories: escaping, password policy, ambiguous filters, what is read
// and returned, connection reuse and the `patronym check` summary.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../../src/auth/authenticator.ts';
import { PatronymError } from '../../../src/errors.ts';
import { authenticatorSuite } from '../../conformance/authenticator.suite.ts';
import { FIXTURE_PATRONS, type Slapd, slapdAvailable, startSlapd } from '../../support/slapd.ts';
import { build, DIRECT, DUPLICATE, FIXTURE, FUTURE_EXPIRY, LOCKED, REPLACEMENT_CARD } from './harness.ts';

const enabled = slapdAvailable();
let started: Promise<Slapd> | undefined;
const server = (): Promise<Slapd> => {
  started ??= startSlapd({ patrons: FIXTURE_PATRONS });
  return started;
};
afterAll(async () => {
  await (await started)?.dispose();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Nothing about the patron: no DN, no attribute value.
const saysNothingAbout = (result: AuthResult): void => {
  const text = JSON.stringify(result);
  for (const leak of ['uid=', 'ou=patrons', 'ada@example.org', '2020', 'R1001', '000001010000Z']) {
    expect(text).not.toContain(leak);
  }
};

for (const [name, extra] of [
  ['search then bind', {}],
  ['direct bind', DIRECT],
] as const) {
  if (!enabled) continue;
  authenticatorSuite(`ldap (${name})`, async () => {
    const slapd = await server();
    const { authenticator } = build(slapd, extra);
    return {
      authenticator,
      fixture: FIXTURE,
      // The server itself goes away mid-run, and comes back: the same
      // authenticator must say so, then recover.
      unreachable: async () => {
        await slapd.stop({ crash: true });
        return authenticator;
      },
      restore: () => slapd.start(),
    };
  });
}

describe.skipIf(!enabled)('ldap authenticator on a real directory', () => {
  it('never widens a search or changes a DN, and still finds a card made of metacharacters', async () => {
    const slapd = await server();
    const search = build(slapd).authenticator;
    const direct = build(slapd, DIRECT).authenticator;
    try {
      for (const a of [search, direct]) {
        // Unescaped, these would match exactly one bait entry with this PIN.
        expect(await a.authenticate({ card: 'P10000*', pin: '1111' })).toMatchObject({ reason: 'unknown-card' });
        expect(await a.authenticate({ card: 'x,ou=admins', pin: '1234' })).toMatchObject({ reason: 'unknown-card' });
        // Unescaped, "*" would match every patron: ambiguous, not unknown.
        expect(await a.authenticate({ card: '*', pin: '1234' })).toMatchObject({ reason: 'unknown-card' });
        expect(await a.authenticate({ card: '*)(uid=*', pin: '1234' })).toMatchObject({ reason: 'unknown-card' });
        expect(await a.authenticate({ card: 'Q1*', pin: '4321' })).toMatchObject({ reason: 'unknown-card' });
        // The escaped value reaches the server as the card's own bytes.
        expect((await a.authenticate({ card: 'Q1*(x)', pin: '4321' })).kind).toBe('ok');
      }
    } finally {
      await search.close();
      await direct.close();
    }
  });

  it('never throws, never reports an outage and never lets a random card in, in either mode', async () => {
    const slapd = await server();
    // fc.sample and a loop: fast-check's async runner costs ~60 ms per run here.
    const inputs = fc.sample(
      fc.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }), fc.string({ minLength: 1 })),
      60,
    );
    for (const extra of [{}, DIRECT]) {
      const { authenticator } = build(slapd, extra);
      try {
        for (const [card, pin] of inputs) {
          const result = await authenticator.authenticate({ card, pin });
          expect(result.kind, JSON.stringify({ card, pin, result })).toBe('denied');
        }
      } finally {
        await authenticator.close();
      }
    }
  });

  it('refuses an empty or blank PIN without any bind reaching the server', async () => {
    const slapd = await server();
    const { authenticator } = build(slapd);
    try {
      expect((await authenticator.authenticate(FIXTURE.active)).kind).toBe('ok'); // connections open
      const before = await slapd.operations('Bind');
      for (const pin of ['', ' ', '\t\n']) {
        expect(await authenticator.authenticate({ card: FIXTURE.active.card, pin })).toMatchObject({
          kind: 'denied',
          reason: 'bad-credentials',
        });
      }
      // Only the monitor query's own bind.
      expect((await slapd.operations('Bind')) - before).toBe(1);
    } finally {
      await authenticator.close();
    }
  });

  it('reports a password-policy lock as blocked, whatever the PIN', async () => {
    for (const extra of [{}, DIRECT]) {
      const { authenticator } = build(await server(), extra);
      try {
        for (const pin of [LOCKED.pin, '0000']) {
          const result = await authenticator.authenticate({ card: LOCKED.card, pin });
          expect(result).toMatchObject({
            kind: 'denied',
            reason: 'blocked',
            detail: 'account locked (password policy)',
          });
          saysNothingAbout(result);
        }
      } finally {
        await authenticator.close();
      }
    }
  });

  it('denies a card on two entries and tells the sysadmin the filter is ambiguous', async () => {
    const { authenticator } = build(await server());
    try {
      const result = await authenticator.authenticate(DUPLICATE);
      expect(result).toEqual({
        kind: 'denied',
        reason: 'blocked',
        detail: 'filter matched 2 entries (ambiguous filter)',
      });
      // A filter that matches everyone stops at two.
      const { authenticator: wide } = build(await server(), { filter: '(|(uid={card})(objectClass=inetOrgPerson))' });
      expect(await wide.authenticate(FIXTURE.active)).toMatchObject({
        detail: 'filter matched more than 2 entries (ambiguous filter)',
      });
      await wide.close();
    } finally {
      await authenticator.close();
    }
  });

  it('says nothing about the patron in denials', async () => {
    const { authenticator } = build(await server());
    try {
      for (const c of [FIXTURE.blocked, FIXTURE.expired, FIXTURE.wrongPin, DUPLICATE, LOCKED]) {
        saysNothingAbout(await authenticator.authenticate(c));
      }
    } finally {
      await authenticator.close();
    }
  });

  it('keys the patron by entryUUID, so a replacement card keeps the stableId; returns only configured attributes', async () => {
    const { authenticator, warnings } = build(await server());
    try {
      const first = await authenticator.authenticate(FIXTURE.active);
      const replaced = await authenticator.authenticate(REPLACEMENT_CARD);
      expect(first).toMatchObject({ kind: 'ok', patron: { attributes: { mail: ['ada@example.org'] } } });
      if (first.kind !== 'ok' || replaced.kind !== 'ok') throw new Error('expected ok');
      expect(first.patron.stableId).toMatch(UUID);
      expect(replaced.patron.stableId).toBe(first.patron.stableId);
      expect(Object.keys(first.patron.attributes)).toEqual(['mail']);
      expect(warnings).toEqual([expect.stringContaining('sends PINs in clear')]);
    } finally {
      await authenticator.close();
    }
  });

  it('uses the barcode as stableId only when told, and warns', async () => {
    const { authenticator, warnings } = build(await server(), { filter: '(uid={card})', stableIdAttribute: 'uid' });
    try {
      expect(await authenticator.authenticate(FIXTURE.active)).toMatchObject({
        patron: { stableId: FIXTURE.active.card },
      });
      expect(warnings.join('\n')).toContain('a replaced card changes');
    } finally {
      await authenticator.close();
    }
  });

  it('reads expiry dates in the configured format', async () => {
    const { authenticator } = build(await server(), { expiry: { attribute: 'patronExpiryDate', format: 'date' } });
    try {
      expect(await authenticator.authenticate(FIXTURE.expired)).toMatchObject({ kind: 'denied', reason: 'expired' });
      expect((await authenticator.authenticate(FUTURE_EXPIRY)).kind).toBe('ok');
    } finally {
      await authenticator.close();
    }
    // Read as a generalized time, a date is not a valid value: the sysadmin is told, the patron is not turned away as expired.
    const { authenticator: wrong } = build(await server(), {
      expiry: { attribute: 'patronExpiryDate', format: 'generalizedTime' },
    });
    try {
      const result = await wrong.authenticate(FIXTURE.expired);
      expect(result).toMatchObject({
        kind: 'unavailable',
        cause: 'ldap: expiry attribute "patronExpiryDate" holds a value that is not a generalizedTime',
      });
    } finally {
      await wrong.close();
    }
  });

  it('direct bind without a service account: the patron reads their own entry; an unknown card cannot be told from a wrong PIN', async () => {
    const { authenticator } = build(await server(), { ...DIRECT, bindDn: undefined, bindPassword: undefined });
    try {
      expect(await authenticator.authenticate(FIXTURE.active)).toMatchObject({
        kind: 'ok',
        patron: { stableId: expect.stringMatching(UUID) },
      });
      expect(await authenticator.authenticate(FIXTURE.blocked)).toMatchObject({ reason: 'blocked' });
      expect(await authenticator.authenticate(FIXTURE.expired)).toMatchObject({ reason: 'expired' });
      expect(await authenticator.authenticate(FIXTURE.unknownCard)).toMatchObject({ reason: 'bad-credentials' });
    } finally {
      await authenticator.close();
    }
  });

  it('reuses the service account connection and the bind connection across logins', async () => {
    const slapd = await server();
    const { authenticator } = build(slapd);
    try {
      const before = await slapd.connectionsTotal();
      for (let i = 0; i < 10; i++) {
        expect((await authenticator.authenticate(FIXTURE.active)).kind).toBe('ok');
        expect((await authenticator.authenticate(FIXTURE.unknownCard)).kind).toBe('denied');
      }
      // One service connection, one bind connection, plus the monitor query itself.
      expect((await slapd.connectionsTotal()) - before).toBe(3);
      expect(authenticator.connectionsOpened).toBe(2);
      // Concurrent logins share the service connection and at most poolSize bind connections.
      await Promise.all(Array.from({ length: 12 }, () => authenticator.authenticate(FIXTURE.active)));
      expect(authenticator.connectionsOpened).toBeLessThanOrEqual(1 + 4);
    } finally {
      await authenticator.close();
    }
  });

  it('reports a wrong service password as an outage naming the account, never as a wrong PIN', async () => {
    const slapd = await server();
    const { authenticator } = build(slapd, { bindPassword: 'not-the-password' });
    try {
      expect(await authenticator.authenticate(FIXTURE.active)).toEqual({
        kind: 'unavailable',
        cause: `ldap: ${slapd.url} bind as service account failed: "${slapd.serviceDn}" (invalid credentials (49))`,
      });
    } finally {
      await authenticator.close();
    }
  });

  it('reports a missing search base as an outage', async () => {
    const { authenticator } = build(await server(), { baseDn: 'ou=nowhere,dc=library,dc=org' });
    try {
      expect(await authenticator.authenticate(FIXTURE.active)).toEqual({
        kind: 'unavailable',
        cause: 'ldap: directory refused the operation: no such object (32)',
      });
    } finally {
      await authenticator.close();
    }
  });

  it('check() binds, searches and prints one line per server; a failure rejects naming what failed', async () => {
    const slapd = await server();
    const good = build(slapd).authenticator;
    const bad = build(slapd, { bindPassword: 'nope' }).authenticator;
    try {
      expect(await good.check()).toMatch(
        new RegExp(
          `^ok {3}${slapd.url} \\(plain, insecure\\): bound as "${slapd.serviceDn}", found "${slapd.patronsDn}" in \\d+ ms$`,
        ),
      );
      const error = await bad.check().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PatronymError);
      expect((error as PatronymError).code).toBe('ldap_check_failed');
      expect((error as PatronymError).message).toBe(
        `ldap: "test-ldap": 1 of 1 servers failed\nFAIL ${slapd.url} (plain, insecure): bind as service account failed: "${slapd.serviceDn}" (invalid credentials (49))`,
      );
    } finally {
      await good.close();
      await bad.close();
    }
  });

  it('answers unavailable once closed', async () => {
    const { authenticator } = build(await server());
    await authenticator.close();
    expect(await authenticator.authenticate(FIXTURE.active)).toEqual({
      kind: 'unavailable',
      cause: 'ldap: authenticator closed',
    });
  });
});
