// The folio authenticator: the shared contract over the FOLIO simulator,
// then CQL escaping, the service login and a misbehaving Okapi.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cqlString } from '../../../../src/auth/folio/cql.ts';
import { FolioAuthenticator } from '../../../../src/auth/folio/folio-authenticator.ts';
import { folioOptionsSchema } from '../../../../src/auth/folio/options.ts';
import { ilsConformance } from '../../../support/ils-conformance.ts';
import { FOLIO_USER, type FolioSimulator, startFolioSimulator } from '../../../support/ils-folio.ts';
import { ILS_CARDS, ILS_PATRONS } from '../../../support/ils-http.ts';

function folioFor(sim: Pick<FolioSimulator, 'baseUrl'>, input: Record<string, unknown> = {}): FolioAuthenticator {
  const options = folioOptionsSchema.parse({
    baseUrl: sim.baseUrl,
    allowHttp: true,
    timeout: 1,
    ...FOLIO_USER,
    ...input,
  });
  return new FolioAuthenticator('springfield-folio', options);
}

ilsConformance('folio', startFolioSimulator, (sim) => folioFor(sim));

describe('folio authenticator', () => {
  let sim: FolioSimulator;
  beforeAll(async () => {
    sim = await startFolioSimulator();
  });
  afterAll(() => sim.stop());

  it('escapes CQL: quotes, backslashes and masking characters', () => {
    expect(cqlString('a"b\\c*d?e^f')).toBe('"a\\"b\\\\c\\*d\\?e\\^f"');
  });

  it('a card with masking characters matches no one, even where one patron would match', async () => {
    const one = await startFolioSimulator({ patrons: ILS_PATRONS.slice(0, 1) });
    const a = folioFor(one);
    try {
      for (const card of ['21234*', '2123400000000?', '*']) {
        expect(await a.authenticate({ card, pin: ILS_CARDS.active.pin })).toMatchObject({
          kind: 'denied',
          reason: 'unknown-card',
        });
      }
    } finally {
      await a.close();
      await one.stop();
    }
  });

  it('logs in once for concurrent sign-ins, again after the token expired', async () => {
    const a = folioFor(sim);
    const before = sim.logins();
    const results = await Promise.all(Array.from({ length: 10 }, () => a.authenticate(ILS_CARDS.active)));
    expect(results.every((r) => r.kind === 'ok')).toBe(true);
    expect(sim.logins() - before).toBe(1);
    sim.expireTokens();
    expect((await a.authenticate(ILS_CARDS.active)).kind).toBe('ok');
    expect(sim.logins() - before).toBe(2);
    expect(await a.check()).toBe(`folio ${sim.baseUrl}: login as "patronym" (tenant "diku") accepted, users readable`);
    await a.close();
  });

  it('a refused service login or a wrong tenant is an outage, not a wrong PIN', async () => {
    for (const input of [{ password: 'wrong' }, { tenant: 'other' }]) {
      const a = folioFor(sim, input);
      expect((await a.authenticate(ILS_CARDS.active)).kind).toBe('unavailable');
      await expect(a.check()).rejects.toMatchObject({ code: 'folio_check_failed' });
      await a.close();
    }
  });

  it.each([
    ['a 500', { kind: 'status', status: 500 } as const, /verify: HTTP 500$/],
    ['an HTML page', { kind: 'html' } as const, /verify: unexpected HTTP 200 \(text\/html\)$/],
    ['a slow answer', { kind: 'slow', ms: 1500 } as const, /verify: no answer within 1 s$/],
  ])('%s to the PIN check is unavailable, sent once', async (_n, m, cause) => {
    const a = folioFor(sim);
    sim.setMisbehaviour(m, { on: /verify$/ });
    const from = sim.received.length;
    try {
      expect(await a.authenticate(ILS_CARDS.active)).toMatchObject({
        kind: 'unavailable',
        cause: expect.stringMatching(cause),
      });
      expect(sim.received.slice(from).filter((r) => r.path.endsWith('/verify'))).toHaveLength(1);
    } finally {
      sim.setMisbehaviour(undefined);
      await a.close();
    }
  });
});
