// The alma authenticator: the shared contract over the Alma simulator,
// then the API key and a misbehaving gateway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlmaAuthenticator } from '../../../../src/auth/alma/alma-authenticator.ts';
import { almaOptionsSchema } from '../../../../src/auth/alma/options.ts';
import { ALMA_KEY, startAlmaSimulator } from '../../../support/ils-alma.ts';
import { ilsConformance } from '../../../support/ils-conformance.ts';
import { ILS_CARDS, type IlsSimulator } from '../../../support/ils-http.ts';

function almaFor(sim: Pick<IlsSimulator, 'baseUrl'>, input: Record<string, unknown> = {}): AlmaAuthenticator {
  const options = almaOptionsSchema.parse({
    baseUrl: sim.baseUrl,
    allowHttp: true,
    timeout: 1,
    apiKey: ALMA_KEY,
    ...input,
  });
  return new AlmaAuthenticator('springfield-alma', options);
}

ilsConformance('alma', startAlmaSimulator, (sim) => almaFor(sim));

describe('alma authenticator', () => {
  let sim: IlsSimulator;
  beforeAll(async () => {
    sim = await startAlmaSimulator();
  });
  afterAll(() => sim.stop());

  it("uses Alma's primary id as stableId", async () => {
    const a = almaFor(sim);
    expect(await a.authenticate(ILS_CARDS.active)).toMatchObject({ kind: 'ok', patron: { stableId: 'alma-p-0001' } });
    expect(await a.check()).toBe(`alma ${sim.baseUrl}: API key accepted for Users`);
    await a.close();
  });

  it('a refused API key is an outage, not a wrong PIN', async () => {
    const a = almaFor(sim, { apiKey: 'wrong' });
    expect(await a.authenticate(ILS_CARDS.active)).toMatchObject({
      kind: 'unavailable',
      cause: expect.stringContaining('the API key was refused or lacks Users read/write (INVALID_API_KEY)'),
    });
    await expect(a.check()).rejects.toMatchObject({ code: 'alma_check_failed' });
    await a.close();
  });

  it.each([
    ['a 500', { kind: 'status', status: 500 } as const, /op=auth: HTTP 500$/],
    ['an HTML page', { kind: 'html' } as const, /op=auth: unexpected HTTP 200 \(text\/html\)$/],
    ['a slow answer', { kind: 'slow', ms: 1500 } as const, /op=auth: no answer within 1 s$/],
  ])('%s to op=auth is unavailable, sent once', async (_n, m, cause) => {
    const a = almaFor(sim);
    sim.setMisbehaviour(m, { on: /\/users\/[^/]+$/, times: 1 });
    const from = sim.received.length;
    try {
      expect(await a.authenticate(ILS_CARDS.active)).toMatchObject({
        kind: 'unavailable',
        cause: expect.stringMatching(cause),
      });
      expect(sim.received.slice(from).filter((r) => r.method === 'POST')).toHaveLength(1);
    } finally {
      sim.setMisbehaviour(undefined);
      await a.close();
    }
  });
});
