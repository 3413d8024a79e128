// What an identity provider on the public internet meets: PIN guessing,
// spraying, clickjacking and header checks, OIDC protocol abuse, hostile
// input. Each rule proved against a running broker.
import { join } from 'node:path';
import fc from 'fast-check';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeClock } from '../conformance/store.suite.ts';
import {
  CookieJar,
  completeLogin,
  follow,
  formField,
  login,
  sqliteStoreText,
  startLogin,
  submitLogin,
  type Vendor,
  vendor,
} from '../support/broker.ts';
import { expectAbsent } from '../support/leaks.ts';
import { useBroker, withBroker } from '../support/use-broker.ts';

const clock = fakeClock(Date.now());
const PATRON = { card: '21234000000001', pin: '1234' };
// The broker's store runs on `clock`; the throttle's counters
// (rate-limiter-flexible) on Date: the lock expiries move both.
const advance = (ms: number) => {
  clock.advance(ms);
  vi.setSystemTime(Date.now() + ms);
};

describe('security', () => {
  let v: Vendor;
  const b = useBroker({ now: clock.now, config: { trustedProxies: ['127.0.0.1/32'] } });
  beforeAll(async () => {
    v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
  });
  afterAll(async () => {
    vi.useRealTimers();
  });

  // Each "client" is a different address behind the trusted proxy (us).
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  async function attempt(card: string, pin: string, ip: string) {
    const jar = new CookieJar();
    const started = await startLogin(v, b.issuer, {}, jar);
    const action = /action="([^"]+\/login)"/.exec(started.loginPage)?.[1] ?? '';
    return follow(jar, b.issuer, new URL(action, b.issuer).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...from(ip) },
      body: new URLSearchParams({ csrf: formField(started.loginPage, 'csrf') ?? '', card, pin }).toString(),
    });
  }

  describe('brute force', () => {
    it('slows then locks a card after repeated wrong PINs; the right PIN is refused during the lock; the lock expires', async () => {
      const card = '21234000000002';
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++)
        statuses.push((await attempt(card, String(1000 + i), `198.51.100.${i}`)).response.status);
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
      expect(statuses.slice(10)).toEqual(Array(10).fill(429));

      const locked = await attempt(card, '2345', '203.0.113.7');
      expect(locked.leftFor).toBeUndefined();
      expect(locked.response.status).toBe(429);
      // Seconds left of the 15-minute lock: a loaded machine may take a second or two.
      const retryAfter = Number(locked.response.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(890);
      expect(retryAfter).toBeLessThanOrEqual(900);
      expect(locked.body).toContain('locked for 15 minutes');
      const line = b.logs.map((l) => JSON.parse(l)).find((l) => l.outcome === 'throttled');
      expect(line).toMatchObject({ scope: 'card', library: 'springfield' });
      expect(JSON.stringify(line)).not.toContain(card);

      advance(901_000);
      expect((await attempt(card, '2345', '203.0.113.7')).leftFor).toMatch(/code=/);
    });

    it('does not ask the library’s system while a card is locked', async () => {
      const card = '21234000000004';
      for (let i = 0; i < 10; i++) await attempt(card, '0000', '198.51.100.200');
      const before = b.logs.filter((l) => l.includes('"event":"login"') && l.includes('"outcome":"denied"')).length;
      await attempt(card, '4567', '198.51.100.201');
      const after = b.logs.filter((l) => l.includes('"event":"login"') && l.includes('"outcome":"denied"')).length;
      expect(after).toBe(before);
      advance(901_000);
    });

    it('refuses one address spraying a PIN over many cards, and not another address', async () => {
      for (let i = 0; i < 30; i++) await attempt(`2123490000${String(i).padStart(4, '0')}`, '1234', '192.0.2.66');
      const sprayer = await attempt(PATRON.card, PATRON.pin, '192.0.2.66');
      expect(sprayer.response.status).toBe(429);
      expect(sprayer.body).toContain('Too many sign-in attempts from this network');
      expect((await attempt(PATRON.card, PATRON.pin, '192.0.2.67')).leftFor).toMatch(/code=/);
    });

    it('lets two patrons sharing a computer make a few mistakes', async () => {
      await attempt('21234000000001', '0000', '192.0.2.80');
      await attempt('21234000000002', '0000', '192.0.2.80');
      expect((await attempt('21234000000001', '1234', '192.0.2.80')).leftFor).toMatch(/code=/);
      expect((await attempt('21234000000002', '2345', '192.0.2.80')).leftFor).toMatch(/code=/);
    });

    it('ignores X-Forwarded-For from anyone but a trusted proxy', async () => {
      await withBroker({ config: {} }, async (other) => {
        const ov = await vendor(other.issuer, 'demo-vendor', 'demo-vendor-secret');
        for (let i = 0; i < 30; i++) {
          const s = await startLogin(ov, other.issuer);
          const action = /action="([^"]+\/login)"/.exec(s.loginPage)?.[1] ?? '';
          await follow(s.jar, other.issuer, new URL(action, other.issuer).href, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `198.51.100.${i}` },
            body: new URLSearchParams({
              csrf: formField(s.loginPage, 'csrf') ?? '',
              card: `2123480000${i}0`,
              pin: '1',
            }).toString(),
          });
        }
        // All 30 came from 127.0.0.1 whatever they claimed: that address is refused now.
        const s = await startLogin(ov, other.issuer);
        expect((await submitLogin(s, other.issuer, PATRON.card, PATRON.pin)).response.status).toBe(429);
        // and the sysadmin is told, once, what is probably a missing trustedProxies entry
        const warnings = other.logs.filter((l) => l.includes('"event":"untrusted_proxy"'));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain('127.0.0.1 sends X-Forwarded-For but is not in trustedProxies');
      });
      // 31 sign-ins, each PIN a scrypt hash: 3–7 s, over 20 s with two
      // suites on the machine.
    }, 60_000);
  });

  describe('headers', () => {
    it('sends the hardening headers on every page and endpoint', async () => {
      const started = await startLogin(v, b.issuer);
      const uid = /\/interaction\/([^/"?]+)/.exec(started.loginUrl)?.[1];
      const urls = [
        started.loginUrl,
        `${b.issuer}/interaction/${uid}/libraries`,
        `${b.issuer}/.well-known/openid-configuration`,
        `${b.issuer}/jwks`,
        `${b.issuer}/vendors`,
        `${b.issuer}/privacy`,
        `${b.issuer}/account`,
        `${b.issuer}/static/patronym.css`,
        `${b.issuer}/no-such-page`,
        `${b.issuer}/auth?client_id=nope`,
        `${b.issuer}/session/end`,
      ];
      for (const url of urls) {
        const response = await fetch(url, { redirect: 'manual', headers: { cookie: started.jar.header() } });
        const csp = response.headers.get('content-security-policy') ?? '';
        expect(csp, url).toContain("frame-ancestors 'none'");
        expect(csp, url).toContain("default-src 'none'");
        expect(csp, url).not.toContain('unsafe-inline');
        expect(response.headers.get('referrer-policy'), url).toBe('no-referrer');
        expect(response.headers.get('x-content-type-options'), url).toBe('nosniff');
        expect(response.headers.get('x-frame-options'), url).toBe('DENY');
        expect(response.headers.get('strict-transport-security'), url).toBeNull();
        await response.arrayBuffer();
      }
    });

    it('adds HSTS and Secure cookies behind a TLS-terminating proxy', async () => {
      const url = oidc.buildAuthorizationUrl(v.config, {
        redirect_uri: v.redirectUri,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const response = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
      expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      for (const cookie of response.headers.getSetCookie()) expect(cookie).toMatch(/; secure/i);
    });

    it('makes the broker session a browser-session cookie, shortened on a shared computer', async () => {
      const { jar } = await login(v, b.issuer, PATRON.card, PATRON.pin);
      const session = jar.setCookieHeaders.filter((c) => c.startsWith('_session'));
      expect(session.length).toBeGreaterThan(0);
      for (const c of session) expect(c).not.toMatch(/expires=|max-age=/i);

      // Idle: 15 minutes by default; 5 on a shared computer.
      const shared = await startLogin(v, b.issuer);
      const action = /action="([^"]+\/login)"/.exec(shared.loginPage)?.[1] ?? '';
      const done = await follow(shared.jar, b.issuer, new URL(action, b.issuer).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          csrf: formField(shared.loginPage, 'csrf') ?? '',
          ...PATRON,
          shared: 'yes',
        }).toString(),
      });
      expect(done.leftFor).toMatch(/code=/);
      expect(shared.jar.cookies.has('patronym_library')).toBe(false);
      clock.advance(6 * 60_000);
      expect((await startLogin(v, b.issuer, {}, shared.jar)).loginPage).toContain('name="card"');
      expect((await startLogin(v, b.issuer, {}, jar)).loginPage).toBe('');
      clock.advance(16 * 60_000);
      expect((await startLogin(v, b.issuer, {}, jar)).loginPage).toContain('name="card"');
    });
  });

  describe('OIDC', () => {
    const authorize = (params: Record<string, string>) =>
      fetch(
        `${b.issuer}/auth?${new URLSearchParams({ client_id: 'demo-vendor', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:3001/callback', ...params })}`,
        {
          redirect: 'manual',
        },
      );

    it('refuses PKCE "plain"', async () => {
      const response = await authorize({ code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' });
      expect(new URL(response.headers.get('location') ?? '').searchParams.get('error')).toBe('invalid_request');
    });

    it('matches redirect URIs exactly', async () => {
      for (const redirect of [
        'http://localhost:3001/callback/',
        'http://localhost:3001/callback?x=1',
        'http://LOCALHOST:3001/callback',
        'https://localhost:3001/callback',
      ]) {
        const response = await authorize({ redirect_uri: redirect });
        expect(response.status, redirect).toBe(400);
        expect(response.headers.get('location')).toBeNull();
      }
    });

    it('refuses request objects and request_uri unless configured', async () => {
      const discovery = (await (await fetch(`${b.issuer}/.well-known/openid-configuration`)).json()) as Record<
        string,
        unknown
      >;
      expect(discovery.request_parameter_supported).toBeFalsy();
      expect(discovery.pushed_authorization_request_endpoint).toBeUndefined();
      expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
      expect(discovery.id_token_signing_alg_values_supported).not.toContain('none');
      const response = await authorize({ request_uri: 'urn:ietf:params:oauth:request_uri:abc' });
      expect(new URL(response.headers.get('location') ?? 'http://x/').searchParams.get('error')).toMatch(
        /not_supported|invalid_request/,
      );
    });

    it('uses a code once; a replayed code revokes the tokens issued from it', async () => {
      const started = await startLogin(v, b.issuer);
      const done = await submitLogin(started, b.issuer, PATRON.card, PATRON.pin);
      const tokens = await completeLogin(v, started, done.leftFor as string);
      const from = b.logs.length;
      await expect(completeLogin(v, started, done.leftFor as string)).rejects.toMatchObject({ error: 'invalid_grant' });
      await expect(oidc.fetchUserInfo(v.config, tokens.access_token, tokens.claims()?.sub as string)).rejects.toThrow();
      // The sysadmin's log says why (oidc-provider's reason), naming no code.
      const lines = b.logs.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>);
      const refused = lines.find((l) => l.event === 'grant.error');
      expect(refused).toMatchObject({ error: 'invalid_grant', detail: 'authorization code already consumed' });
      const code = new URL(done.leftFor as string).searchParams.get('code') as string;
      expect(b.logs.slice(from).join('')).not.toContain(code);
    });

    it('lets a vendor revoke its own tokens and nobody else’s', async () => {
      const { tokens } = await login(v, b.issuer, PATRON.card, PATRON.pin);
      const other = await vendor(b.issuer, 'demo-vendor-2', 'demo-vendor-secret');
      await oidc.tokenRevocation(other.config, tokens.access_token).catch(() => undefined);
      await oidc.fetchUserInfo(v.config, tokens.access_token, tokens.claims()?.sub as string);
      await oidc.tokenRevocation(v.config, tokens.access_token);
      await expect(oidc.fetchUserInfo(v.config, tokens.access_token, tokens.claims()?.sub as string)).rejects.toThrow();
    });

    it('echoes state and binds the nonce', async () => {
      const started = await startLogin(v, b.issuer);
      const done = await submitLogin(started, b.issuer, PATRON.card, PATRON.pin);
      expect(new URL(done.leftFor as string).searchParams.get('state')).toBe(started.state);
      await expect(
        oidc.authorizationCodeGrant(v.config, new URL(done.leftFor as string), {
          pkceCodeVerifier: started.verifier,
          expectedState: started.state,
          expectedNonce: 'another-nonce',
        }),
      ).rejects.toMatchObject({ cause: { message: 'unexpected ID Token "nonce" claim value' } });
    });
  });

  describe('nothing from a request lands in the store unfiltered', () => {
    // Two libraries in two realms, so that a card-shaped login_hint decides
    // which one the sign-in page is for.
    const two = useBroker(({ dir }) => {
      const patrons = join(dir, 'data', 'demo-patrons.yaml');
      return {
        config: {
          realms: [
            { id: 'springfield', scope: 'springfield.example.org' },
            { id: 'shelbyville', scope: 'shelbyville.example.org' },
          ],
          libraries: [
            {
              id: 'springfield',
              name: 'Springfield Public Library',
              realm: 'springfield',
              cardPatterns: ['21234'],
              authenticators: [{ id: 'springfield-patrons', kind: 'file', path: patrons }],
            },
            {
              id: 'shelbyville',
              name: 'Shelbyville Library',
              realm: 'shelbyville',
              cardPatterns: ['29999'],
              authenticators: [{ id: 'shelbyville-patrons', kind: 'file', path: patrons }],
            },
          ],
        },
      };
    });
    let tv: Vendor;
    beforeAll(async () => {
      tv = await vendor(two.issuer, 'demo-vendor', 'demo-vendor-secret');
    });
    // Every file of the SQLite store (database, WAL, shared memory), as bytes.
    const storeBytes = () => sqliteStoreText(two);

    it('keeps no login_hint: a card there only picks the library, and no copy of it is stored or logged', async () => {
      const started = await startLogin(tv, two.issuer, { login_hint: PATRON.card });
      // routed by the card, as if the vendor had said library=springfield
      expect(started.loginPage).toContain('name="card"');
      expect(started.loginPage).toContain('name="library" value="springfield"');
      // the interaction is saved now: neither the store nor the logs hold the card
      expect((await storeBytes()).length).toBeGreaterThan(1000);
      expectAbsent(await storeBytes(), [PATRON.card]);
      const done = await submitLogin(started, two.issuer, PATRON.card, PATRON.pin);
      await completeLogin(tv, started, done.leftFor as string);
      expectAbsent(await storeBytes(), [PATRON.card]);
      expectAbsent(two.logs.join(''), [PATRON.card]);
    });

    it('drops a login_hint that is no card of one library, and never overrides library=', async () => {
      const email = 'patron.canary@example.org';
      const chooser = await startLogin(tv, two.issuer, { login_hint: email });
      // no library decided: the page asks for the card first, or the library
      expect(chooser.loginPage).not.toMatch(/name="library" value="[a-z]/);
      const named = await startLogin(tv, two.issuer, { login_hint: '29999000000001', library: 'springfield' });
      expect(named.loginPage).toContain('name="library" value="springfield"');
      expectAbsent(await storeBytes(), [email, '29999000000001']);
    });
  });

  describe('hostile input', () => {
    it('survives any card, PIN and token the form can carry: no crash, no code, no stack trace', async () => {
      const started = await startLogin(v, b.issuer, {}, new CookieJar());
      const action = new URL(/action="([^"]+\/login)"/.exec(started.loginPage)?.[1] ?? '', b.issuer).href;
      const csrf = formField(started.loginPage, 'csrf') ?? '';
      await fc.assert(
        fc.asyncProperty(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.boolean(),
          async (card, pin, withCsrf) => {
            const response = await fetch(action, {
              method: 'POST',
              redirect: 'manual',
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                cookie: started.jar.header(),
                'x-forwarded-for': '198.18.0.1',
              },
              body: new URLSearchParams({ csrf: withCsrf ? csrf : card.slice(0, 43), card, pin }).toString(),
            });
            const body = await response.text();
            expect(response.status).toBeLessThan(500);
            expect(response.headers.get('location') ?? '').not.toContain('code=');
            expect(body).not.toMatch(/at .*\.(ts|js):\d+|TypeError|ReferenceError/);
          },
        ),
        { numRuns: 60 },
      );
      // 60 posts, most of them a scrypt check: 3–6 s, over 20 s with two
      // suites on the machine.
    }, 60_000);

    it('answers compressed bodies (corrupt gzip, any encoding) with 415 and a one-line log, on forms and endpoints', async () => {
      const started = await startLogin(v, b.issuer);
      const action = new URL(/action="([^"]+\/login)"/.exec(started.loginPage)?.[1] ?? '', b.issuer).href;
      const corrupt = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x42]);
      const logsBefore = b.logs.length;
      const post = (url: string, type: string, encoding: string, accept: string) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': type, 'content-encoding': encoding, accept, cookie: started.jar.header() },
          body: corrupt,
        });
      // the patron's form: a page
      const form = await post(action, 'application/x-www-form-urlencoded', 'gzip', 'text/html');
      expect(form.status).toBe(415);
      expect(form.headers.get('content-type')).toContain('text/html');
      expect(form.headers.get('accept-encoding')).toBe('identity');
      const page = await form.text();
      expect(page).toContain('<html');
      expect(page).toContain('The form could not be read.');
      expect(page).not.toMatch(/at .*\.(ts|js):\d+|TypeError|zlib|header check/i);
      // the token, registration and revocation endpoints: OAuth JSON
      for (const [path, type] of [
        ['/token', 'application/x-www-form-urlencoded'],
        ['/reg', 'application/json'],
        ['/token/revocation', 'application/x-www-form-urlencoded'],
      ] as const) {
        for (const encoding of ['gzip', 'deflate', 'br', 'x-unknown']) {
          const response = await post(`${b.issuer}${path}`, type, encoding, 'application/json');
          expect(response.status, `${path} ${encoding}`).toBe(415);
          const body = (await response.json()) as { error: string; error_description: string };
          expect(body.error).toBe('invalid_request');
          expect(body.error_description).toBe(`request bodies must not be compressed (content-encoding "${encoding}")`);
        }
      }
      const lines = b.logs.slice(logsBefore).filter((l) => l.includes('"event":"unsupported_encoding"'));
      expect(lines).toHaveLength(13);
      for (const line of lines) {
        expect(line.split('\n').filter(Boolean)).toHaveLength(1);
        expect(line).not.toMatch(/"stack"|"err"/);
      }
      expect(b.logs.slice(logsBefore).some((l) => l.includes('"level":"error"'))).toBe(false);
      // an identity encoding is no encoding
      const plain = await fetch(`${b.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'identity' },
        body: 'grant_type=authorization_code&code=x',
      });
      expect(plain.status).toBe(400);
      expect(((await plain.json()) as { error: string }).error).toBe('invalid_request');
    });

    it('answers malformed query strings, bodies and giant headers with a page, not a crash', async () => {
      const started = await startLogin(v, b.issuer);
      const action = new URL(/action="([^"]+\/login)"/.exec(started.loginPage)?.[1] ?? '', b.issuer).href;
      const bad = [
        fetch(`${b.issuer}/auth?client_id=%E0%A4%A&redirect_uri=%%%`, { redirect: 'manual' }),
        fetch(`${started.loginUrl}?library=%FF%FE`, { headers: { cookie: started.jar.header() } }),
        fetch(action, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: started.jar.header() },
          body: Buffer.from([0x63, 0x61, 0x72, 0x64, 0x3d, 0xff, 0xfe, 0xc3, 0x28, 0x26, 0x70, 0x69, 0x6e, 0x3d, 0x80]),
        }),
        fetch(action, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: started.jar.header() },
          body: '{"card":',
        }),
        fetch(`${b.issuer}/.well-known/openid-configuration`, { headers: { 'x-giant': 'a'.repeat(20_000) } }),
      ];
      for (const response of await Promise.all(bad)) {
        const body = await response.text();
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        expect(body).not.toMatch(/at .*\.(ts|js):\d+|TypeError|SyntaxError/);
      }
      // still alive
      expect((await login(v, b.issuer, PATRON.card, PATRON.pin)).tokens.claims()?.sub).toBeTruthy();
    });
  });
});
