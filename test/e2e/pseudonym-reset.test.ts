// Promises of the privacy page that must hold against a vendor and against
// the next person at a shared computer: a reset pseudonym stays reset (after
// "forget me", after the account record expires, after a restart), a reset
// ends every client sharing the pseudonym, the privacy page always asks for
// the card, and its notices cannot be made to say anything.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addClient } from '../../src/cli/commands/clients.ts';
import { deriveAccountId } from '../../src/pseudonym/derive.ts';
import {
  browserFetch,
  CookieJar,
  follow,
  login,
  type RunningBroker,
  startLogin,
  submitLogin,
  type Vendor,
  vendor,
} from '../support/broker.ts';
import { accountAction, accountPage } from '../support/privacy.ts';
import { useBroker } from '../support/use-broker.ts';

const PATRON = { card: '21234000000001', pin: '1234', id: 'demo-patron-0001' };
const OTHER = { card: '21234000000002', pin: '2345', id: 'demo-patron-0002' };
const DAY = 24 * 3600 * 1000;

const subAt = async (v: Vendor, b: RunningBroker, patron = PATRON) =>
  String((await login(v, b.issuer, patron.card, patron.pin)).tokens.claims()?.sub);

describe('a reset pseudonym never comes back', () => {
  let offset = 0;
  // A broker of its own for each test; the clock moves only in the second.
  const b = useBroker({ now: () => Date.now() + offset }, { per: 'test' });

  it('after "forget me" every vendor gets a new pseudonym, neither the original nor the reset one', async () => {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const v2 = await vendor(b.issuer, 'demo-vendor-2', 'demo-vendor-secret');
    const original = await subAt(v, b, OTHER);
    const otherVendor = await subAt(v2, b, OTHER);
    const { jar } = await accountPage(b, OTHER.card, OTHER.pin);
    await accountAction(b, jar, 'reset', 'demo-vendor');
    const reset = await subAt(v, b, OTHER);
    expect(reset).not.toBe(original);
    const { jar: again } = await accountPage(b, OTHER.card, OTHER.pin);
    expect((await accountAction(b, again, 'forget')).done.body).toContain('You are forgotten');
    const afterForget = await subAt(v, b, OTHER);
    expect([original, reset]).not.toContain(afterForget);
    expect(await subAt(v2, b, OTHER)).not.toBe(otherVendor);
    // and stays what it now is
    expect(await subAt(v, b, OTHER)).toBe(afterForget);
  });

  it('after the account record expires, and after a restart on the same SQLite file, the reset one', async () => {
    const accountId = deriveAccountId(b.keys.accountKey, 'springfield', PATRON.id);
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const original = await subAt(v, b);
    const { jar } = await accountPage(b, PATRON.card, PATRON.pin);
    await accountAction(b, jar, 'reset', 'demo-vendor');
    const reset = await subAt(v, b);
    expect(reset).not.toBe(original);
    // ttl.account (180 days) passes without a sign-in: the account record goes
    offset += 181 * DAY;
    expect(await b.store.sweep()).toHaveProperty('Account');
    expect(await b.store.find('Account', accountId)).toBeUndefined();
    expect(await subAt(v, b)).toBe(reset);
    await b.restart();

    const vAgain = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    expect(await subAt(vAgain, b)).toBe(reset);
  });
});

describe('a reset covers every client of the vendor', () => {
  let logoutServer: Server;
  const logoutTokens: string[] = [];
  beforeAll(async () => {
    logoutServer = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.end();
      });
    });
    await new Promise<void>((resolve) => logoutServer.listen(0, '127.0.0.1', resolve));
  });
  // back-channel logout to a loopback test server
  const b = useBroker({ config: { outbound: { allowPrivateAddresses: true } } });
  afterAll(async () => {
    logoutServer.close();
  });

  it('ends the grants, access and refresh tokens of a registered client on the same sector, with a logout', async () => {
    // A second client of the vendor behind demo-vendor (localhost), added by
    // the sysadmin with the CLI: it lives in the store, not the config file.
    const port = (logoutServer.address() as AddressInfo).port;
    const printed: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    process.env.PATRONYM_CONFIG = b.configPath;
    try {
      await addClient({
        name: 'Demo Vendor Mobile',
        redirectUri: ['http://localhost:4000/cb'],
        logoutUri: `http://127.0.0.1:${port}/logout`,
      });
    } finally {
      delete process.env.PATRONYM_CONFIG;
      write.mockRestore();
    }
    const clientId = /client_id: (\S+)/.exec(printed.join(''))?.[1] as string;
    const secret = /client_secret: (\S+)/.exec(printed.join(''))?.[1] as string;
    const configured = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const registered = await vendor(b.issuer, clientId, secret, 'http://localhost:4000/cb');
    const offline = { scope: 'openid offline_access', prompt: 'consent' };
    const mine = await login(configured, b.issuer, PATRON.card, PATRON.pin, offline);
    const theirs = await login(registered, b.issuer, PATRON.card, PATRON.pin, offline);
    const sub = theirs.tokens.claims()?.sub as string;
    // one sector, one pseudonym
    expect(mine.tokens.claims()?.sub).toBe(sub);
    expect(theirs.tokens.refresh_token).toBeTruthy();
    await oidc.fetchUserInfo(registered.config, theirs.tokens.access_token, sub);

    const { jar } = await accountPage(b, PATRON.card, PATRON.pin);
    await accountAction(b, jar, 'reset', 'demo-vendor');

    for (const [name, v, tokens] of [
      ['configured', configured, mine.tokens],
      ['registered', registered, theirs.tokens],
    ] as const) {
      await expect(oidc.fetchUserInfo(v.config, tokens.access_token, sub), `${name} /me`).rejects.toThrow();
      await expect(
        oidc.refreshTokenGrant(v.config, tokens.refresh_token as string),
        `${name} refresh`,
      ).rejects.toThrow();
    }
    // the registered client was told, with the pseudonym it knew
    await vi.waitFor(() => expect(logoutTokens.length).toBeGreaterThan(0), { timeout: 10_000 });
    const claims = JSON.parse(Buffer.from(logoutTokens[0]?.split('.')[1] ?? '', 'base64url').toString()) as {
      sub: string;
      aud: string;
    };
    expect(claims).toMatchObject({ sub, aud: clientId });
    // and both now get the same new pseudonym
    const after = await login(registered, b.issuer, PATRON.card, PATRON.pin);
    expect(after.tokens.claims()?.sub).not.toBe(sub);
    expect((await login(configured, b.issuer, PATRON.card, PATRON.pin)).tokens.claims()?.sub).toBe(
      after.tokens.claims()?.sub,
    );
  });
});

describe('the privacy page on a shared computer', () => {
  let v: Vendor;
  const b = useBroker();
  beforeAll(async () => {
    v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
  });

  // A browser where the previous patron signed in to a vendor: the broker
  // session is still alive in its cookies.
  async function sharedBrowser(): Promise<CookieJar> {
    const jar = new CookieJar();
    const s = await startLogin(v, b.issuer, {}, jar);
    expect((await submitLogin(s, b.issuer, PATRON.card, PATRON.pin)).leftFor).toMatch(/code=/);
    // auth_time has a resolution of a second: let the session be older than the next request
    await new Promise((resolve) => setTimeout(resolve, 1100));
    return jar;
  }

  async function accountAuthUrl(jar: CookieJar): Promise<URL> {
    const response = await browserFetch(jar, `${b.issuer}/account`);
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location') as string, b.issuer);
  }

  it('asks for the card even when prompt=login is taken out of the URL', async () => {
    const jar = await sharedBrowser();
    const url = await accountAuthUrl(jar);
    expect(url.searchParams.get('prompt')).toBe('login');
    url.searchParams.delete('prompt');
    url.searchParams.delete('max_age');
    const page = await follow(jar, b.issuer, url.href);
    expect(page.body).toContain('name="card"');
    expect(page.body).not.toContain('<h1>Your privacy</h1>');
  });

  it('refuses a code from the earlier session, whatever max_age the URL was made to say', async () => {
    const jar = await sharedBrowser();
    const url = await accountAuthUrl(jar);
    url.searchParams.delete('prompt');
    url.searchParams.set('max_age', '86400');
    const page = await follow(jar, b.issuer, url.href);
    expect(page.url).toContain('/account/callback');
    expect(page.response.status).toBe(400);
    expect(page.body).not.toContain('<h1>Your privacy</h1>');
    expect(jar.cookies.has('patronym_account')).toBe(false);
    expect(b.logs.join('')).toContain('stale-sign-in');
    // while the real flow, card and PIN typed now, still opens the page
    expect((await accountPage(b, PATRON.card, PATRON.pin, jar)).body).toContain('Your privacy');
  });

  it('shows no notice text from the URL, only the closed set, once, naming a known vendor', async () => {
    const { jar } = await accountPage(b, PATRON.card, PATRON.pin);
    const spoof = 'Your library card was compromised';
    for (const query of [
      `?done=reset&vendor=${encodeURIComponent(spoof)}`,
      `?done=withdraw&vendor=${encodeURIComponent(`${spoof}. Call 555-0100`)}`,
      '?done=reset&vendor=demo-vendor',
    ]) {
      const page = await follow(jar, b.issuer, `${b.issuer}/account${query}`);
      expect(page.body).toContain('Your privacy');
      expect(page.body).not.toContain(spoof);
      expect(page.body).not.toContain('role="status"');
    }
    const { done } = await accountAction(b, jar, 'withdraw', 'demo-vendor');
    expect(done.url).toBe(`${b.issuer}/account`);
    expect(done.body).toContain('Permission for Demo Vendor withdrawn');
    expect((await follow(jar, b.issuer, `${b.issuer}/account`)).body).not.toContain('role="status"');
  });
});
