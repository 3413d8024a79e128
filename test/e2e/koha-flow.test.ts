// The whole OIDC flow with a Koha library: the broker asks the Koha
// simulator's REST API (OAuth2 client credentials), a vendor signs patrons
// in with openid-client. The pseudonym follows Koha's patron_id, so it
// survives a new card; a broken API is "not answering", never a wrong PIN.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startLogin, submitLogin, type Vendor, vendor } from '../support/broker.ts';
import { ILS_CARDS, ILS_PATRONS, type SimPatron } from '../support/ils-http.ts';
import { KOHA_CLIENT, type KohaSimulator, startKohaSimulator } from '../support/ils-koha.ts';
import { expectAbsent, expectNoPins } from '../support/leaks.ts';
import { useBroker } from '../support/use-broker.ts';

const WRONG = 'The card number or PIN is not right. Check both and try again.';
const REPLACEMENT = { card: '21234000000099', pin: '1234' };
const active = ILS_PATRONS.find((p) => p.card === ILS_CARDS.active.card) as SimPatron;
const PATRONS: SimPatron[] = [...ILS_PATRONS, { ...active, card: REPLACEMENT.card }];
const SECRETS = PATRONS.flatMap((p) => [p.card, p.name, ...(p.email ? [p.email] : [])]);

describe('sign-in flow with a Koha library', () => {
  let sim: KohaSimulator;
  let v: Vendor;

  afterAll(async () => {
    await sim?.stop();
  });
  const b = useBroker(async ({ dir }) => {
    sim = await startKohaSimulator({ patrons: PATRONS });
    // The client secret from a file, as in production.
    const secretFile = join(dir, 'koha-client-secret');
    writeFileSync(secretFile, `${KOHA_CLIENT.clientSecret}\n`);
    return {
      config: {
        libraries: [
          {
            id: 'springfield',
            name: 'Springfield Public Library',
            realm: 'springfield',
            cardPatterns: ['21234'],
            authenticators: [
              {
                id: 'springfield-koha',
                kind: 'koha',
                baseUrl: sim.baseUrl,
                allowHttp: true,
                auth: { oauth: { clientId: KOHA_CLIENT.clientId, clientSecret: { file: secretFile } } },
                timeout: 1,
              },
            ],
          },
        ],
      },
    };
  });
  beforeAll(async () => {
    v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
  });

  it('signs an active patron in with a pairwise sub that keeps across a card replacement', async () => {
    const first = (await login(v, b.issuer, ILS_CARDS.active.card, ILS_CARDS.active.pin)).tokens.claims();
    expect(first?.sub).toMatch(/^[a-z2-7]{52}@springfield\.example\.org$/);
    const replaced = (await login(v, b.issuer, REPLACEMENT.card, REPLACEMENT.pin)).tokens.claims();
    const other = (await login(v, b.issuer, ILS_CARDS.otherActive.card, ILS_CARDS.otherActive.pin)).tokens.claims();
    expect(replaced?.sub).toBe(first?.sub);
    expect(other?.sub).not.toBe(first?.sub);
    // Three sign-ins, one service token.
    expect(sim.tokensIssued()).toBe(1);
    expect(sim.received.filter((r) => r.path.startsWith('/api/v1/patrons')).every((r) => r.scheme === 'Bearer')).toBe(
      true,
    );
  });

  it.each([
    ['wrong PIN', ILS_CARDS.wrongPin, WRONG],
    ['unknown card', { card: '21234999999999', pin: '1234' }, WRONG],
    [
      'blocked card',
      ILS_CARDS.blocked,
      'This card cannot be used to sign in at the moment. Please contact your library.',
    ],
    ['expired card', ILS_CARDS.expired, 'This card has expired. Please contact your library to renew it.'],
  ])('%s: the form again with a clear message, and no code', async (_name, credentials, message) => {
    const started = await startLogin(v, b.issuer);
    const { response, body, leftFor } = await submitLogin(started, b.issuer, credentials.card, credentials.pin);
    expect(leftFor).toBeUndefined();
    expect(response.status).toBe(200);
    expect(body).toContain(message.replaceAll("'", '&#39;'));
  });

  it.each([
    ['a 500', { kind: 'status', status: 500 } as const, 'HTTP 500'],
    ['an HTML error page', { kind: 'html' } as const, 'unexpected HTTP 200 (text/html)'],
  ])('%s from Koha: "not answering" for the patron, API and cause in the log', async (_name, misbehaviour, cause) => {
    sim.setMisbehaviour(misbehaviour, { on: /validation$/ });
    try {
      const started = await startLogin(v, b.issuer);
      const { response, body } = await submitLogin(started, b.issuer, ILS_CARDS.active.card, ILS_CARDS.active.pin);
      expect(response.status).toBe(503);
      expect(body).toContain('Your library&#39;s system is not answering');
      const line = b.logs
        .map((l) => JSON.parse(l))
        .filter((l) => l.outcome === 'unavailable')
        .at(-1);
      expect(line).toMatchObject({ authenticator: 'springfield-koha', library: 'springfield' });
      expect(line.cause).toBe(`koha: ${sim.baseUrl} POST /api/v1/auth/password/validation: ${cause}`);
    } finally {
      sim.setMisbehaviour(undefined);
    }
  });

  it('an expired service token is replaced without the patron noticing', async () => {
    sim.expireTokens();
    expect((await login(v, b.issuer, ILS_CARDS.active.card, ILS_CARDS.active.pin)).callback).toMatch(/code=/);
    expect(sim.tokensIssued()).toBe(2);
  });

  it('`patronym check --card` checks the service account and shows the outcome', async () => {
    const check = (credentials: { card: string; pin: string }) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          ['src/cli/main.ts', 'check', '--card', credentials.card],
          { env: { ...process.env, PATRONYM_CONFIG: b.configPath } },
          (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
        );
        child.stdin?.end(`${credentials.pin}\n`);
      });
    const active = await check(ILS_CARDS.active);
    expect(active.stdout).toContain(
      `pass  springfield-koha (koha) for library springfield: koha ${sim.baseUrl}: OAuth2 client "patronym-client" accepted, borrowers permission present`,
    );
    expect(active.stdout).toContain('sign-in with that card: ok');
    expect(active.code, active.stdout).toBe(0);
    // The exit code of a refused card is the check command's business.
    expect((await check(ILS_CARDS.expired)).stdout).toContain('sign-in with that card: denied: expired');
  });

  it('never logs a card, a PIN, anything Koha said about a patron, or the client secret', () => {
    const text = b.logs.join('');
    expectAbsent(text, [...SECRETS, KOHA_CLIENT.clientSecret]);
    expectNoPins(text, ['1234', '9999', '3456', '4567', '2345']);
  });
});
