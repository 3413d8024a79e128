// Character sets end to end: the client must speak the server's, checksums
// are over the encoded bytes, and what cannot be encoded or carried is
// refused as bad-credentials before anything is sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sip2Authenticator } from '../../../../src/auth/sip2/sip2-authenticator.ts';
import { SIP2_PATRONS, type Sip2Simulator, startSip2Server } from '../../../support/sip2-server.ts';
import { authenticatorFor, LOGIN, type Sip2Input } from './helpers.ts';

const ACCENTED = { card: '21234000000077', pin: 'pé1' };

let sim: Sip2Simulator;
const made: Sip2Authenticator[] = [];
beforeAll(async () => {
  sim = await startSip2Server({
    encoding: 'latin1',
    login: LOGIN,
    patrons: [...SIP2_PATRONS, { card: ACCENTED.card, pin: ACCENTED.pin, id: 'p-0077', name: 'Zoé Accent' }],
  });
});
afterAll(async () => {
  await Promise.all(made.map((a) => a.close()));
  await sim.stop();
});

function make(extra: Partial<Sip2Input>): Sip2Authenticator {
  const a = authenticatorFor(sim, extra);
  made.push(a);
  return a;
}

describe('sip2 character sets end to end', () => {
  it('signs in with a non-ASCII PIN when the client speaks the server’s set', async () => {
    expect((await make({ encoding: 'latin1' }).authenticate(ACCENTED)).kind).toBe('ok');
  });

  it.each(['utf-8', 'cp850'] as const)(
    'sends other bytes in %s, which the server reads as a wrong PIN',
    async (encoding) => {
      expect(await make({ encoding }).authenticate(ACCENTED)).toMatchObject({
        reason: 'bad-credentials',
        detail: 'CQ=N',
      });
    },
  );

  it.each([
    ['a PIN the set lacks', { card: ACCENTED.card, pin: '€uro' }, 'PIN cannot be sent over SIP2 (unencodable)'],
    [
      'a PIN with the field delimiter',
      { card: ACCENTED.card, pin: '12|AD' },
      'PIN cannot be sent over SIP2 (delimiter)',
    ],
    ['a card with a CR', { card: '2123\r63', pin: '1234' }, 'card cannot be sent over SIP2 (control character)'],
    ['a card with the delimiter', { card: 'AA|AD', pin: '1234' }, 'card cannot be sent over SIP2 (delimiter)'],
    ['a card the set lacks', { card: '２１２３４Ω', pin: '1234' }, 'card cannot be sent over SIP2 (unencodable)'],
  ])('refuses %s as bad-credentials, sending nothing', async (_name, credentials, detail) => {
    const a = make({ encoding: 'cp850' });
    const from = sim.received.length;
    expect(await a.authenticate(credentials)).toEqual({ kind: 'denied', reason: 'bad-credentials', detail });
    expect(sim.received.slice(from)).toEqual([]);
  });
});
