// The whole OIDC flow with a SIP2-backed library: the broker talks to the
// SIP2 simulator (Evergreen-like, with a 93 login and XI internal ids), a
// vendor signs patrons in with openid-client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  login,
  type RunningBroker,
  removeDir,
  startBroker,
  startLogin,
  submitLogin,
  type Vendor,
  vendor,
} from '../support/broker.ts';
import { expectAbsent, expectNoPins } from '../support/leaks.ts';
import { SIP2_CARDS, SIP2_PATRONS, type Sip2Simulator, startSip2Server } from '../support/sip2-server.ts';

const WRONG = 'The card number or PIN is not right. Check both and try again.';
// A replacement card for the active patron: same ILS record, new barcode.
const REPLACEMENT = { card: '21234000000099', pin: '1234' };

describe('sign-in flow with a SIP2 library', () => {
  let sim: Sip2Simulator;
  let b: RunningBroker;
  let v: Vendor;

  beforeAll(async () => {
    const active = SIP2_PATRONS.find((p) => p.card === SIP2_CARDS.active.card);
    sim = await startSip2Server({
      dialect: 'evergreen',
      login: { user: 'patronym', password: 'sip-secret' },
      patrons: [
        ...SIP2_PATRONS,
        { ...(active ?? SIP2_PATRONS[0]), card: REPLACEMENT.card } as (typeof SIP2_PATRONS)[number],
      ],
    });
    b = await startBroker({
      config: {
        libraries: [
          {
            id: 'springfield',
            name: 'Springfield Public Library',
            realm: 'springfield',
            cardPatterns: ['21234'],
            authenticators: [
              {
                id: 'springfield-sip2',
                kind: 'sip2',
                servers: [{ host: '127.0.0.1', port: sim.port, allowInsecure: true }],
                login: { user: 'patronym', password: 'sip-secret' },
                stableIdField: 'XI',
                expiry: { field: 'PA' },
                blocking: { feesOverLimit: true },
                timeout: 1,
              },
            ],
          },
        ],
      },
    });
    v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
  });
  afterAll(async () => {
    await b?.stop();
    if (b) removeDir(b.dir);
    await sim?.stop();
  });

  it('signs an active patron in: code, tokens, a pairwise sub that keeps across a card replacement', async () => {
    const first = (await login(v, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).tokens.claims();
    expect(first?.sub).toMatch(/^[a-z2-7]{52}@springfield\.example\.org$/);
    expect(first?.sub).not.toContain(SIP2_CARDS.active.card);
    const again = (await login(v, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).tokens.claims();
    const replaced = (await login(v, b.issuer, REPLACEMENT.card, REPLACEMENT.pin)).tokens.claims();
    const other = (await login(v, b.issuer, SIP2_CARDS.otherActive.card, SIP2_CARDS.otherActive.pin)).tokens.claims();
    const v2 = await vendor(b.issuer, 'demo-vendor-2', 'demo-vendor-secret');
    const elsewhere = (await login(v2, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).tokens.claims();
    expect(again?.sub).toBe(first?.sub);
    expect(replaced?.sub).toBe(first?.sub);
    expect(other?.sub).not.toBe(first?.sub);
    expect(elsewhere?.sub).not.toBe(first?.sub);
  });

  it.each([
    ['wrong PIN', SIP2_CARDS.wrongPin, WRONG],
    ['unknown card', { card: '21234999999999', pin: '1234' }, WRONG],
    [
      'blocked card',
      SIP2_CARDS.blocked,
      'This card cannot be used to sign in at the moment. Please contact your library.',
    ],
    [
      'card blocked by fees',
      SIP2_CARDS.blockedByFees,
      'This card cannot be used to sign in at the moment. Please contact your library.',
    ],
    ['expired card', SIP2_CARDS.expired, 'This card has expired. Please contact your library to renew it.'],
  ])('%s: the form again with a clear message, and no code', async (_name, credentials, message) => {
    const started = await startLogin(v, b.issuer);
    const { response, body, leftFor } = await submitLogin(started, b.issuer, credentials.card, credentials.pin);
    expect(leftFor).toBeUndefined();
    expect(response.status).toBe(200);
    expect(body).toContain(message.replaceAll("'", '&#39;'));
  });

  it('warns the sysadmin at start-up that the SIP2 link is plain TCP', () => {
    const warning = b.logs.map((l) => JSON.parse(l)).find((l) => l.event === 'config_warning');
    expect(warning?.msg).toContain('over plain TCP');
  });

  it('reports a SIP2 server that stopped as "not answering", naming server and cause in the log', async () => {
    const port = sim.port;
    await sim.stop();
    try {
      const started = await startLogin(v, b.issuer);
      const { response, body, leftFor } = await submitLogin(
        started,
        b.issuer,
        SIP2_CARDS.active.card,
        SIP2_CARDS.active.pin,
      );
      expect(leftFor).toBeUndefined();
      expect(response.status).toBe(503);
      expect(body).toContain('Your library&#39;s system is not answering');
      const line = b.logs.map((l) => JSON.parse(l)).find((l) => l.outcome === 'unavailable');
      expect(line).toMatchObject({ authenticator: 'springfield-sip2', library: 'springfield' });
      expect(line.cause).toBe(`sip2: 127.0.0.1:${port} connection refused`);
    } finally {
      sim = await startSip2Server({ dialect: 'evergreen', login: { user: 'patronym', password: 'sip-secret' }, port });
    }
    expect((await login(v, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).callback).toMatch(/code=/);
  });

  it('never logs a card, a PIN or anything the ILS said about a patron', () => {
    const text = b.logs.join('');
    const patrons = SIP2_PATRONS.flatMap((p) => [p.card, p.name, p.email ?? p.name]);
    expectAbsent(text, [...patrons, REPLACEMENT.card, 'sip-secret']);
    expectNoPins(text, ['1234', '9999', '3456', '4567', '5678']);
  });
});
