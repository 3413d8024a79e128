// The polaris authenticator: the shared contract over the PAPI simulator
// (which recomputes every signature), then the signature and its clock,
// PAPI's date format and a misbehaving API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { polarisOptionsSchema } from '../../../../src/auth/polaris/options.ts';
import { PolarisAuthenticator } from '../../../../src/auth/polaris/polaris-authenticator.ts';
import { papiDay, papiSignature } from '../../../../src/auth/polaris/signature.ts';
import { ilsConformance } from '../../../support/ils-conformance.ts';
import { ILS_CARDS } from '../../../support/ils-http.ts';
import { POLARIS_KEY, type PolarisSimulator, startPolarisSimulator } from '../../../support/ils-polaris.ts';

function polarisFor(
  sim: Pick<PolarisSimulator, 'apiUrl'>,
  input: Record<string, unknown> = {},
  now?: () => number,
): PolarisAuthenticator {
  const options = polarisOptionsSchema.parse({
    baseUrl: sim.apiUrl,
    allowHttp: true,
    timeout: 1,
    ...POLARIS_KEY,
    ...input,
  });
  return new PolarisAuthenticator('springfield-polaris', options, now ? { now } : {});
}

ilsConformance('polaris', startPolarisSimulator, (sim) => polarisFor(sim));

describe('polaris signature and dates', () => {
  it('signs METHOD + URI + date with HMAC-SHA1 (a vector computed with openssl)', () => {
    // printf 'GEThttps://papi.example.org/PAPIService/REST/public/v1/1033/100/1/apiWed, 17 Oct 2012 22:23:32 GMT' | openssl dgst -sha1 -hmac key -binary | base64
    expect(
      papiSignature(
        'key',
        'GET',
        'https://papi.example.org/PAPIService/REST/public/v1/1033/100/1/api',
        'Wed, 17 Oct 2012 22:23:32 GMT',
      ),
    ).toBe(VECTOR);
  });

  it('reads WCF and ISO dates', () => {
    expect(papiDay('/Date(1271646000000-0400)/')).toBe('2010-04-19');
    expect(papiDay('2010-04-08T00:00:00')).toBe('2010-04-08');
    expect(papiDay(null)).toBeUndefined();
  });
});

describe('polaris authenticator', () => {
  let sim: PolarisSimulator;
  beforeAll(async () => {
    sim = await startPolarisSimulator();
  });
  afterAll(() => sim.stop());

  it('a wrong access key or a clock 20 minutes off is an outage naming the signature, not a wrong PIN', async () => {
    for (const a of [polarisFor(sim, { accessKey: 'wrong' }), polarisFor(sim, {}, () => Date.now() - 20 * 60 * 1000)]) {
      const before = sim.signaturesRefused();
      expect(await a.authenticate(ILS_CARDS.active)).toMatchObject({
        kind: 'unavailable',
        cause: expect.stringContaining('HTTP 401: PAPI refused the signature of access ID "patronym"'),
      });
      expect(sim.signaturesRefused()).toBeGreaterThan(before);
      await expect(a.check()).rejects.toMatchObject({ code: 'polaris_check_failed' });
      await a.close();
    }
  });

  it('signs a barcode that needs escaping in the URI as sent', async () => {
    const a = polarisFor(sim);
    const before = sim.signaturesRefused();
    expect(await a.authenticate({ card: 'a b/c?d', pin: '1234' })).toMatchObject({
      kind: 'denied',
      reason: 'unknown-card',
    });
    expect(sim.signaturesRefused()).toBe(before);
    expect(await a.check()).toBe(`polaris ${sim.baseUrl}: access ID "patronym" accepted, PAPI 7.5.0.0`);
    await a.close();
  });

  it('lets a blocked patron in when blockWhenCannotCirculate is off', async () => {
    const a = polarisFor(sim, { blockWhenCannotCirculate: false });
    expect((await a.authenticate(ILS_CARDS.blocked)).kind).toBe('ok');
    await a.close();
  });

  it.each([
    ['a 500', { kind: 'status', status: 500 } as const, /authenticator\/patron: HTTP 500$/],
    ['an HTML page', { kind: 'html' } as const, /authenticator\/patron: HTTP 200 answer is not JSON \(text\/html\)$/],
    ['a slow answer', { kind: 'slow', ms: 1500 } as const, /no answer within 1 s$/],
  ])('%s to AuthenticatePatron is unavailable, sent once', async (_n, m, cause) => {
    const a = polarisFor(sim);
    sim.setMisbehaviour(m, { on: /authenticator\/patron$/ });
    const from = sim.received.length;
    try {
      expect(await a.authenticate(ILS_CARDS.active)).toMatchObject({
        kind: 'unavailable',
        cause: expect.stringMatching(cause),
      });
      expect(sim.received.slice(from).filter((r) => r.path.endsWith('/authenticator/patron'))).toHaveLength(1);
    } finally {
      sim.setMisbehaviour(undefined);
      await a.close();
    }
  });
});
const VECTOR = 'oZcMuuUJQCwn9TfikX/kzgJDK8Y=';
