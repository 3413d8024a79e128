// The sierra authenticator: the shared contract over the Sierra simulator,
// then its own rules (tokens, block codes, misbehaving API, check()).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sierraOptionsSchema } from '../../../../src/auth/sierra/options.ts';
import { SierraAuthenticator } from '../../../../src/auth/sierra/sierra-authenticator.ts';
import { ilsConformance } from '../../../support/ils-conformance.ts';
import { ILS_CARDS } from '../../../support/ils-http.ts';
import { SIERRA_CLIENT, type SierraSimulator, startSierraSimulator } from '../../../support/ils-sierra.ts';

function sierraFor(sim: Pick<SierraSimulator, 'apiUrl'>, input: Record<string, unknown> = {}): SierraAuthenticator {
  const options = sierraOptionsSchema.parse({
    baseUrl: sim.apiUrl,
    allowHttp: true,
    timeout: 1,
    ...SIERRA_CLIENT,
    ...input,
  });
  return new SierraAuthenticator('springfield-sierra', options);
}

ilsConformance('sierra', startSierraSimulator, (sim) => sierraFor(sim));

describe('sierra authenticator', () => {
  let sim: SierraSimulator;
  beforeAll(async () => {
    sim = await startSierraSimulator();
  });
  afterAll(() => sim.stop());
  const count = (from: number, path: RegExp) => sim.received.slice(from).filter((r) => path.test(r.path)).length;

  it('uses the record id as stableId and one token for concurrent sign-ins, a new one after expiry', async () => {
    const a = sierraFor(sim);
    const results = await Promise.all(Array.from({ length: 12 }, () => a.authenticate(ILS_CARDS.active)));
    expect(results.every((r) => r.kind === 'ok' && r.patron.stableId === '1000001')).toBe(true);
    expect(sim.tokensIssued()).toBe(1);
    sim.expireTokens();
    expect((await a.authenticate(ILS_CARDS.active)).kind).toBe('ok');
    expect(sim.tokensIssued()).toBe(2);
    await a.close();
  });

  it('blocks only the configured block codes when blockCodes is set', async () => {
    const a = sierraFor(sim, { blockCodes: ['x'] });
    expect((await a.authenticate(ILS_CARDS.blocked)).kind).toBe('ok');
    await a.close();
    const b = sierraFor(sim, { blockCodes: ['c'] });
    expect(await b.authenticate(ILS_CARDS.blocked)).toMatchObject({ kind: 'denied', reason: 'blocked' });
    await b.close();
  });

  it.each([
    ['a 500', { kind: 'status', status: 500 } as const, /validate: HTTP 500$/],
    ['an HTML page', { kind: 'html' } as const, /validate: unexpected HTTP 200 \(text\/html\)$/],
    ['a slow answer', { kind: 'slow', ms: 1500 } as const, /validate: no answer within 1 s$/],
  ])('%s to the validation is unavailable, sent once', async (_n, m, cause) => {
    const a = sierraFor(sim);
    sim.setMisbehaviour(m, { on: /validate$/ });
    const from = sim.received.length;
    try {
      const result = await a.authenticate(ILS_CARDS.active);
      expect(result).toMatchObject({ kind: 'unavailable', cause: expect.stringMatching(cause) });
      expect(count(from, /validate$/)).toBe(1);
    } finally {
      sim.setMisbehaviour(undefined);
      await a.close();
    }
  });

  it('a refused client key is an outage, not a wrong PIN; check() says so too', async () => {
    const a = sierraFor(sim, { clientSecret: 'wrong' });
    expect(await a.authenticate(ILS_CARDS.active)).toMatchObject({
      kind: 'unavailable',
      cause: expect.stringContaining('client key "patronym-key" or its secret refused'),
    });
    await expect(a.check()).rejects.toMatchObject({ code: 'sierra_check_failed' });
    await a.close();
    const good = sierraFor(sim);
    expect(await good.check()).toBe(
      `sierra ${sim.baseUrl}: token for client key "patronym-key" issued, roles: Patrons_Read, Patrons_Validate`,
    );
    await good.close();
  });

  it('refuses an http base URL without allowHttp', () => {
    expect(sierraOptionsSchema.safeParse({ baseUrl: sim.apiUrl, ...SIERRA_CLIENT }).success).toBe(false);
  });
});
