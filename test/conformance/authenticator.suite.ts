// The contract every authenticator keeps. Each backend's test file calls
// `authenticatorSuite` with a factory over its real server or simulator.
// A case a backend cannot support is passed as `skip: { case: 'reason' }`
// so the reason stands in the code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticator, AuthResult, Credentials } from '../../src/auth/authenticator.ts';

export interface AuthenticatorFixture {
  active: Credentials;
  // A second credential for the same patron is not needed; another active
  // patron proves the stableIds differ.
  otherActive: Credentials;
  wrongPin: Credentials;
  unknownCard: Credentials;
  blocked: Credentials;
  expired: Credentials;
}

export interface AuthenticatorHarness {
  authenticator: Authenticator;
  fixture: AuthenticatorFixture;
  // Makes the backend stop answering (stop the server, point at a dead
  // port…) and returns an authenticator in that state.
  unreachable?: () => Promise<Authenticator>;
  // Restores after `unreachable`.
  restore?: () => Promise<void>;
  // For backends that may keep what they answered last where another
  // client can ask for it (SIP2, issue 13): a second authenticator on the
  // same backend, and what an outside probe finds about patrons (names of
  // the fields found; empty when nothing).
  another?: () => Authenticator;
  leftBehind?: () => Promise<string[]>;
  teardown?: () => Promise<void>;
}

export type SuiteCase = 'blocked' | 'expired' | 'unreachable';

const HOSTILE_CARDS = [
  '*',
  '*)(uid=*',
  ')(|(uid=*))',
  'x,ou=admins',
  'uid=*',
  '\\2a',
  'AA|AD',
  'a\rb',
  '%00',
  '\u0000',
];

function leaks(result: AuthResult, credentials: Credentials): boolean {
  const text = JSON.stringify(result);
  return text.includes(credentials.pin) || text.includes(credentials.card);
}

export function authenticatorSuite(
  name: string,
  setup: () => Promise<AuthenticatorHarness>,
  options: { skip?: Partial<Record<SuiteCase, string>> } = {},
): void {
  describe(`authenticator conformance: ${name}`, () => {
    let h: AuthenticatorHarness;
    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => {
      await h?.authenticator.close();
      await h?.teardown?.();
    });

    it('accepts an active patron with a stable, non-empty stableId', async () => {
      const first = await h.authenticator.authenticate(h.fixture.active);
      const second = await h.authenticator.authenticate(h.fixture.active);
      // Both asserted before narrowing: a second sign-in that fails must fail
      // the case, not end it early as a pass.
      expect(first.kind).toBe('ok');
      expect(second.kind).toBe('ok');
      if (first.kind !== 'ok' || second.kind !== 'ok') throw new Error('unreachable: both asserted ok above');
      expect(first.patron.stableId).not.toBe('');
      expect(second.patron.stableId).toBe(first.patron.stableId);
      const other = await h.authenticator.authenticate(h.fixture.otherActive);
      expect(other.kind).toBe('ok');
      if (other.kind === 'ok') expect(other.patron.stableId).not.toBe(first.patron.stableId);
    });

    it('denies a wrong PIN as bad-credentials', async () => {
      expect(await h.authenticator.authenticate(h.fixture.wrongPin)).toMatchObject({
        kind: 'denied',
        reason: 'bad-credentials',
      });
    });

    it('denies an unknown card as unknown-card', async () => {
      expect(await h.authenticator.authenticate(h.fixture.unknownCard)).toMatchObject({
        kind: 'denied',
        reason: 'unknown-card',
      });
    });

    it.skipIf(options.skip?.blocked !== undefined)(
      'denies a blocked patron with the right PIN as blocked',
      async () => {
        expect(await h.authenticator.authenticate(h.fixture.blocked)).toMatchObject({
          kind: 'denied',
          reason: 'blocked',
        });
      },
    );

    it.skipIf(options.skip?.expired !== undefined)(
      'denies an expired patron with the right PIN as expired',
      async () => {
        expect(await h.authenticator.authenticate(h.fixture.expired)).toMatchObject({
          kind: 'denied',
          reason: 'expired',
        });
      },
    );

    it('refuses an empty or blank PIN before asking the backend', async () => {
      for (const pin of ['', ' ', '\t']) {
        const result = await h.authenticator.authenticate({ card: h.fixture.active.card, pin });
        expect(result).toMatchObject({ kind: 'denied', reason: 'bad-credentials' });
      }
    });

    // Denied, not "unavailable": odd input must not raise a false outage
    // alert or tell the patron the library's system is down.
    it('denies a hostile card, never lets it in, never throws', async () => {
      for (const card of HOSTILE_CARDS) {
        for (const pin of [h.fixture.active.pin, '*']) {
          const result = await h.authenticator.authenticate({ card, pin });
          expect(result.kind, `card ${JSON.stringify(card)}`).toBe('denied');
        }
      }
    });

    it('never echoes the card or PIN in a result', async () => {
      for (const c of [h.fixture.wrongPin, h.fixture.unknownCard, h.fixture.blocked, h.fixture.expired]) {
        expect(leaks(await h.authenticator.authenticate(c), c)).toBe(false);
      }
    });

    it('answers concurrent logins correctly', async () => {
      const attempts = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? h.fixture.active : h.fixture.wrongPin));
      const results = await Promise.all(attempts.map((c) => h.authenticator.authenticate(c)));
      expect(results.map((r) => r.kind)).toEqual(attempts.map((_, i) => (i % 2 === 0 ? 'ok' : 'denied')));
    });

    it('leaves nothing about a patron where another client can ask for it, after close', async (context) => {
      if (!h.another || !h.leftBehind) {
        context.skip('the backend keeps no reply for other clients (no leftBehind in the harness)');
        return;
      }
      const a = h.another();
      try {
        for (const c of [h.fixture.active, h.fixture.wrongPin, h.fixture.otherActive, h.fixture.blocked]) {
          await a.authenticate(c);
        }
      } finally {
        await a.close();
      }
      expect(await h.leftBehind()).toEqual([]);
    });

    it.skipIf(options.skip?.unreachable !== undefined)(
      'reports an unreachable backend as unavailable, never as a wrong PIN',
      async () => {
        const broken = await h.unreachable?.();
        expect(broken, 'harness must provide unreachable()').toBeDefined();
        if (!broken) return;
        try {
          const result = await broken.authenticate(h.fixture.active);
          expect(result.kind).toBe('unavailable');
          expect(leaks(result, h.fixture.active)).toBe(false);
        } finally {
          if (broken !== h.authenticator) await broken.close();
          await h.restore?.();
        }
        expect((await h.authenticator.authenticate(h.fixture.active)).kind).toBe('ok');
      },
    );
  });
}
