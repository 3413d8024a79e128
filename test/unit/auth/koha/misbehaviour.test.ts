// What a Koha API that misbehaves gets from the broker: always
// `unavailable` with a cause for the sysadmin, never a wrong PIN; a PIN
// check is never sent twice, a lookup at most `1 + retries` times; bearer
// tokens are fetched once for many sign-ins and again when they expire.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ILS_CARDS } from '../../../support/ils-http.ts';
import { type KohaSimulator, startKohaSimulator } from '../../../support/ils-koha.ts';
import { kohaFor, OAUTH } from './helpers.ts';

let sim: KohaSimulator;
beforeAll(async () => {
  sim = await startKohaSimulator({ patrons: undefined });
});
afterAll(() => sim.stop());
afterEach(() => {
  sim.setMisbehaviour(undefined);
  sim.setPermission(true);
});

const VALIDATE = /\/auth\/password\/validation$/;
const count = (from: number, path: RegExp) => sim.received.slice(from).filter((r) => path.test(r.path)).length;

describe('koha authenticator against a misbehaving API', () => {
  it.each([
    ['a 500', { kind: 'status', status: 500 } as const, /POST \/api\/v1\/auth\/password\/validation: HTTP 500$/],
    ['a 503', { kind: 'status', status: 503 } as const, /HTTP 503$/],
    ['an HTML error page', { kind: 'html' } as const, /unexpected HTTP 200 \(text\/html\)$/],
    ['a connection cut mid-answer', { kind: 'cut' } as const, /validation: /],
    ['a slow answer', { kind: 'slow', ms: 1500 } as const, /no answer within 1 s$/],
  ])('%s to the PIN check: unavailable, sent once', async (_name, misbehaviour, cause) => {
    const a = kohaFor(sim);
    sim.setMisbehaviour(misbehaviour, { on: VALIDATE });
    const from = sim.received.length;
    const result = await a.authenticate(ILS_CARDS.active);
    expect(result).toMatchObject({ kind: 'unavailable' });
    if (result.kind === 'unavailable') {
      expect(result.cause).toMatch(cause);
      expect(result.cause.startsWith(`koha: ${sim.baseUrl} POST`)).toBe(true);
      expect(result.cause).not.toContain(ILS_CARDS.active.card);
    }
    expect(count(from, VALIDATE)).toBe(1);
    await a.close();
  });

  it('retries a lookup once after a 500 and then answers', async () => {
    const a = kohaFor(sim, { retries: 1 });
    sim.setMisbehaviour({ kind: 'status', status: 500 }, { on: /\/patrons\/\d+$/, times: 1 });
    const from = sim.received.length;
    expect(await a.authenticate(ILS_CARDS.active)).toMatchObject({ kind: 'ok', patron: { stableId: '1' } });
    expect(count(from, /\/patrons\/\d+$/)).toBe(2);
    await a.close();
  });

  it('gives up on a lookup after 1 + retries attempts', async () => {
    const a = kohaFor(sim, { retries: 2 });
    sim.setMisbehaviour({ kind: 'html' }, { on: /\/patrons$/ });
    const from = sim.received.length;
    const result = await a.authenticate(ILS_CARDS.unknownCard);
    expect(result.kind).toBe('unavailable');
    expect(count(from, /\/patrons$/)).toBe(1);
    sim.setMisbehaviour({ kind: 'status', status: 502 }, { on: /\/patrons$/ });
    const again = await a.authenticate(ILS_CARDS.unknownCard);
    expect(again).toMatchObject({ kind: 'unavailable', cause: expect.stringMatching(/HTTP 502 \(3 attempts\)$/) });
    expect(count(from, /\/patrons$/)).toBe(4);
    await a.close();
  });

  it('a 403 says the API user lacks the borrowers permission', async () => {
    const a = kohaFor(sim);
    sim.setPermission(false);
    const result = await a.authenticate(ILS_CARDS.active);
    expect(result).toMatchObject({
      kind: 'unavailable',
      cause: expect.stringContaining('HTTP 403: the API user lacks the borrowers permission'),
    });
    await a.close();
  });

  it('refused Basic credentials are an outage naming the service user, not a wrong PIN', async () => {
    const a = kohaFor(sim, { auth: { basic: { user: 'patronym', password: 'wrong' } } });
    const result = await a.authenticate(ILS_CARDS.active);
    expect(result).toMatchObject({
      kind: 'unavailable',
      cause: expect.stringContaining('HTTP 401: the API refused the broker\'s basic auth as "patronym"'),
    });
    await a.close();
  });

  it('fetches one token for many concurrent sign-ins, and a new one when it has expired', async () => {
    const a = kohaFor(sim, { auth: OAUTH });
    const before = sim.tokensIssued();
    const results = await Promise.all(Array.from({ length: 20 }, () => a.authenticate(ILS_CARDS.active)));
    expect(results.every((r) => r.kind === 'ok')).toBe(true);
    expect(sim.tokensIssued() - before).toBe(1);
    sim.expireTokens();
    const from = sim.received.length;
    expect((await a.authenticate(ILS_CARDS.active)).kind).toBe('ok');
    expect(sim.tokensIssued() - before).toBe(2);
    // The PIN check that met the expired token was sent again with the new one.
    expect(count(from, VALIDATE)).toBe(2);
    await a.close();
  });

  it('renews a token before the expiry the API announced', async () => {
    const short = await startKohaSimulator({ tokenLifetime: 1 });
    const a = kohaFor(short, { auth: OAUTH });
    try {
      expect((await a.authenticate(ILS_CARDS.active)).kind).toBe('ok');
      await new Promise((r) => setTimeout(r, 1100));
      const from = short.received.length;
      expect((await a.authenticate(ILS_CARDS.active)).kind).toBe('ok');
      expect(short.tokensIssued()).toBe(2);
      // No 401 round trip: the token was renewed before it was refused.
      expect(short.received.slice(from).filter((r) => VALIDATE.test(r.path))).toHaveLength(1);
    } finally {
      await a.close();
      await short.stop();
    }
  });

  it('refused client credentials are an outage', async () => {
    const a = kohaFor(sim, { auth: { oauth: { clientId: 'patronym-client', clientSecret: 'nope' } } });
    expect(await a.authenticate(ILS_CARDS.active)).toMatchObject({
      kind: 'unavailable',
      cause: expect.stringContaining('client credentials of "patronym-client" refused'),
    });
    await a.close();
  });

  it('"Password expired" is expired', async () => {
    const own = await startKohaSimulator({
      patrons: [
        { card: '21234000000010', pin: '1010', id: 'p-0010', name: 'Pat Stale', screenMessages: ['password expired'] },
      ],
    });
    const a = kohaFor(own);
    try {
      expect(await a.authenticate({ card: '21234000000010', pin: '1010' })).toMatchObject({
        kind: 'denied',
        reason: 'expired',
      });
    } finally {
      await a.close();
      await own.stop();
    }
  });
});
