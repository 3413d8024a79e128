// Every decision rule of SIP2.md against every simulated dialect, end to end
// over a socket, with both patron messages (63 and 23).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../../../src/auth/authenticator.ts';
import type { Sip2Authenticator } from '../../../../src/auth/sip2/sip2-authenticator.ts';
import {
  SIP2_CARDS,
  SIP2_DIALECTS,
  SIP2_PATRONS,
  type Sip2Dialect,
  type Sip2Simulator,
  startSip2Server,
} from '../../../support/sip2-server.ts';
import { authenticatorFor, DIALECT_OPTIONS, LOGIN, type Sip2Input } from './helpers.ts';

const outcome = (r: AuthResult) =>
  r.kind === 'denied'
    ? `${r.reason}: ${r.detail}`
    : r.kind === 'ok'
      ? `ok ${r.patron.stableId}`
      : `unavailable: ${r.cause}`;

const EXPECTED: Record<Sip2Dialect, Record<keyof typeof SIP2_CARDS, string>> = {
  koha: {
    active: 'ok 21234000000001',
    otherActive: 'ok 21234000000002',
    wrongPin: 'bad-credentials: CQ=N',
    unknownCard: 'unknown-card: BL=N',
    blocked: 'blocked: status flag charge-privileges-denied',
    expired: 'expired: PA date passed',
    blockedByFees: 'blocked: BV over CC',
    noPin: 'bad-credentials: empty PIN',
  },
  evergreen: {
    active: 'ok p-0001',
    otherActive: 'ok p-0002',
    wrongPin: 'bad-credentials: CQ=N',
    unknownCard: 'unknown-card: BL=N',
    blocked: 'blocked: status flag charge-privileges-denied',
    expired: 'expired: PA date passed',
    blockedByFees: 'blocked: BV over CC',
    noPin: 'bad-credentials: empty PIN',
  },
  polaris: {
    active: 'ok 21234000000001',
    otherActive: 'ok 21234000000002',
    wrongPin: 'bad-credentials: CQ=N',
    unknownCard: 'unknown-card: BL=N',
    blocked: 'blocked: status flag charge-privileges-denied',
    expired: 'expired: PY=Y',
    blockedByFees: 'blocked: BV over CC',
    noPin: 'bad-credentials: empty PIN',
  },
  broken: {
    active: 'ok 21234000000001',
    otherActive: 'ok 21234000000002',
    wrongPin: 'bad-credentials: CQ=N',
    // Neither BL nor CQ: a client reading "missing" as "not N" lets it in.
    unknownCard: 'unknown-card: reply has no BL=Y',
    blocked: 'blocked: status flag charge-privileges-denied',
    expired: 'expired: PA date passed',
    blockedByFees: 'blocked: BV over CC',
    noPin: 'bad-credentials: empty PIN',
  },
};

const sims = new Map<Sip2Dialect, Sip2Simulator>();
const open: Sip2Authenticator[] = [];
beforeAll(async () => {
  for (const d of SIP2_DIALECTS) sims.set(d, await startSip2Server({ dialect: d, login: LOGIN }));
});
afterAll(async () => {
  await Promise.all(open.map((a) => a.close()));
  await Promise.all([...sims.values()].map((s) => s.stop()));
});

function make(dialect: Sip2Dialect, extra: Partial<Sip2Input> = {}): Sip2Authenticator {
  const sim = sims.get(dialect);
  if (!sim) throw new Error('no simulator');
  const a = authenticatorFor(sim, { ...DIALECT_OPTIONS[dialect], ...extra });
  open.push(a);
  return a;
}

describe.each(SIP2_DIALECTS)('sip2 decision rules, %s dialect', (dialect) => {
  for (const message of ['63', '23'] as const) {
    it(`decides every fixture patron as SIP2.md says (message ${message})`, async () => {
      const a = make(dialect, { message });
      const got: Record<string, string> = {};
      for (const [name, credentials] of Object.entries(SIP2_CARDS))
        got[name] = outcome(await a.authenticate(credentials));
      expect(got).toEqual(EXPECTED[dialect]);
    });
  }

  it('always sends AD, never sends an empty PIN, and never lets the patron without a PIN in', async () => {
    const sim = sims.get(dialect) as Sip2Simulator;
    const a = make(dialect);
    const start = sim.received.length;
    await a.authenticate(SIP2_CARDS.noPin);
    await a.authenticate({ card: SIP2_CARDS.noPin.card, pin: ' ' });
    expect(sim.received.slice(start).filter((m) => m.fields.get('AA') === SIP2_CARDS.noPin.card)).toEqual([]);
    expect(await a.authenticate({ card: SIP2_CARDS.noPin.card, pin: '0000' })).toMatchObject({
      reason: 'bad-credentials',
    });
    const patronRequests = sim.received.slice(start).filter((m) => m.code === '63' || m.code === '23');
    expect(patronRequests.length).toBeGreaterThan(0);
    for (const m of patronRequests) expect(m.fields.get('AD')).toBe('0000');
  });

  it('never returns the card, PIN, name, e-mail or a date read about the patron', async () => {
    const a = make(dialect);
    for (const credentials of Object.values(SIP2_CARDS)) {
      const result = await a.authenticate(credentials);
      // An ok result's stableId may be the card itself (no better key): look at the rest.
      const text = JSON.stringify(
        result.kind === 'ok' ? { ...result, patron: { ...result.patron, stableId: '' } } : result,
      );
      const patron = SIP2_PATRONS.find((p) => p.card === credentials.card);
      const secrets = [credentials.card, credentials.pin, patron?.name, patron?.email, '20200131'];
      for (const s of secrets.filter((v): v is string => !!v)) expect(text, `${dialect}: ${s}`).not.toContain(s);
    }
  });

  it('is blocked-by-fees only when a fee rule is configured', async () => {
    const a = make(dialect, { blocking: { feesOverLimit: false } });
    expect((await a.authenticate(SIP2_CARDS.blockedByFees)).kind).toBe('ok');
  });
});

describe('sip2 site rules beyond the defaults', () => {
  it('koha: expiry by AF text alone', async () => {
    const a = make('koha', { expiry: { afPattern: 'account has expired' } });
    expect(outcome(await a.authenticate(SIP2_CARDS.expired))).toBe('expired: AF matched expiry.afPattern');
  });

  it('koha: without an expiry rule an expired card still does not get in (its flags block it)', async () => {
    const a = make('koha', { expiry: {} });
    expect(outcome(await a.authenticate(SIP2_CARDS.expired))).toBe('blocked: status flag charge-privileges-denied');
  });

  it('evergreen: blocking by AF text alone ("ACCOUNT LOCKED")', async () => {
    const a = make('evergreen', { blocking: { flags: [], afPattern: 'account locked' } });
    expect(outcome(await a.authenticate(SIP2_CARDS.blocked))).toBe('blocked: AF matched blocking.afPattern');
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
  });

  it('polaris: configuring PA (not a date there) fails closed instead of guessing', async () => {
    const a = make('polaris', { expiry: { field: 'PA' } });
    const result = await a.authenticate(SIP2_CARDS.active);
    expect(result).toMatchObject({ kind: 'unavailable' });
    expect(outcome(result)).toMatch(
      /^unavailable: sip2: expiry field PA matches none of expiry\.formats \(127\.0\.0\.1:\d+\)$/,
    );
  });

  it('polaris: PX as the expiry date without PY', async () => {
    const a = make('polaris', { expiry: { field: 'PX' } });
    expect(outcome(await a.authenticate(SIP2_CARDS.expired))).toBe('expired: PX date passed');
  });

  it('koha: a stable id field the server does not send is an outage, not a new pseudonym', async () => {
    const a = make('koha', { stableIdField: 'XI' });
    expect(outcome(await a.authenticate(SIP2_CARDS.active))).toMatch(
      /^unavailable: sip2: reply has no XI \(stableIdField\)/,
    );
  });

  it('passes configured fields on as attributes', async () => {
    const a = make('koha', { attributes: { currency: 'BH' } });
    expect(await a.authenticate(SIP2_CARDS.active)).toMatchObject({ patron: { attributes: { currency: ['USD'] } } });
  });
});
