// The https-only rule, secrets from the environment, and `check()` behind
// `patronym check`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KohaAuthenticator } from '../../../../src/auth/koha/koha-authenticator.ts';
import { kohaOptionsSchema } from '../../../../src/auth/koha/options.ts';
import { PatronymError } from '../../../../src/errors.ts';
import { type KohaSimulator, startKohaSimulator } from '../../../support/ils-koha.ts';
import { BASIC, kohaFor, OAUTH } from './helpers.ts';

let sim: KohaSimulator;
beforeAll(async () => {
  sim = await startKohaSimulator();
});
afterAll(() => sim.stop());

async function rejection(promise: Promise<unknown>): Promise<PatronymError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PatronymError);
    return error as PatronymError;
  }
  throw new Error('expected a rejection');
}

describe('koha options', () => {
  it('refuses an http base URL unless allowHttp says so, and any other scheme', () => {
    const plain = kohaOptionsSchema.safeParse({ baseUrl: 'http://koha.example.org', auth: BASIC });
    expect(plain.success).toBe(false);
    expect(plain.error?.issues[0]).toMatchObject({
      path: ['baseUrl'],
      message: expect.stringContaining('an https URL'),
    });
    expect(
      kohaOptionsSchema.safeParse({ baseUrl: 'http://127.0.0.1:8080', allowHttp: true, auth: BASIC }).success,
    ).toBe(true);
    expect(
      kohaOptionsSchema.safeParse({ baseUrl: 'ftp://koha.example.org', allowHttp: true, auth: BASIC }).success,
    ).toBe(false);
    expect(kohaOptionsSchema.parse({ baseUrl: 'https://koha.example.org', auth: OAUTH })).toMatchObject({
      timeout: 5,
      poolSize: 4,
      retries: 1,
      checkRecord: true,
    });
  });

  it('reads the service password from the environment', async () => {
    const options = kohaOptionsSchema.parse({
      baseUrl: sim.baseUrl,
      allowHttp: true,
      auth: { basic: { user: 'patronym', password: { env: 'KOHA_TEST_PASSWORD' } } },
    });
    const a = new KohaAuthenticator('k', options, { env: { KOHA_TEST_PASSWORD: 'koha-secret' } });
    expect((await a.authenticate({ card: '21234000000001', pin: '1234' })).kind).toBe('ok');
    await a.close();
    expect(() => new KohaAuthenticator('k', options, { env: {} })).toThrow(/KOHA_TEST_PASSWORD/);
  });
});

describe('koha check', () => {
  it('says the service account was accepted with the borrowers permission', async () => {
    for (const auth of [BASIC, OAUTH]) {
      const a = kohaFor(sim, { auth });
      expect(await a.check()).toMatch(
        new RegExp(
          `^koha ${sim.baseUrl}: (basic auth as "patronym"|OAuth2 client "patronym-client") accepted, borrowers permission present$`,
        ),
      );
      await a.close();
    }
  });

  it('names refused credentials, a missing permission and a dead API', async () => {
    const wrong = kohaFor(sim, { auth: { basic: { user: 'patronym', password: 'nope' } } });
    expect((await rejection(wrong.check())).message).toContain('HTTP 401: the API refused the broker');
    await wrong.close();
    sim.setPermission(false);
    const a = kohaFor(sim);
    try {
      const error = await rejection(a.check());
      expect(error.code).toBe('koha_check_failed');
      expect(error.message).toContain('lacks the borrowers permission');
    } finally {
      sim.setPermission(true);
      await a.close();
    }
    const dead = kohaFor({ baseUrl: 'http://127.0.0.1:9' });
    expect((await rejection(dead.check())).message).toBe(
      'koha: http://127.0.0.1:9 GET /api/v1/patrons?_per_page=1: connection refused (2 attempts)',
    );
    await dead.close();
  });
});
