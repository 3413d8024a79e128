// The patron pages in a real browser: sign in by keyboard only, and nothing
// fetched from any origin but the broker's (and the vendor's, at the end).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vendor } from '../support/broker.ts';
import { browserAvailable, launchBrowser } from '../support/browser.ts';
import { useBroker } from '../support/use-broker.ts';

describe.runIf(browserAvailable())('patron pages in headless Chromium', () => {
  let browser: Browser;
  let vendorServer: Server;
  let vendorOrigin: string;
  const callbacks: string[] = [];

  afterAll(async () => {
    await browser?.close();
    vendorServer?.close();
  });
  const b = useBroker(async () => {
    vendorServer = createServer((req, res) => {
      callbacks.push(req.url ?? '');
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><title>vendor</title><p>back at the vendor</p>');
    });
    await new Promise<void>((resolve) => vendorServer.listen(0, '127.0.0.1', resolve));
    vendorOrigin = `http://127.0.0.1:${(vendorServer.address() as AddressInfo).port}`;
    return {
      config: {
        clients: [
          {
            client_id: 'browser-vendor',
            client_name: 'Browser Vendor',
            client_secret: 'browser-vendor-secret',
            redirect_uris: [`${vendorOrigin}/callback`],
          },
        ],
      },
    };
  });
  beforeAll(async () => {
    browser = await launchBrowser();
  });

  async function authorizeUrl() {
    const v = await vendor(b.issuer, 'browser-vendor', 'browser-vendor-secret', `${vendorOrigin}/callback`);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(v.config, {
      redirect_uri: v.redirectUri,
      scope: 'openid',
      state: oidc.randomState(),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { v, verifier, url };
  }

  it('signs in by keyboard alone and fetches nothing from another origin', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const { v, verifier, url } = await authorizeUrl();
    await page.goto(url.href);
    await expect.poll(() => page.title()).toContain('Sign in with your library card');

    // The card field has focus on arrival; Tab reaches the PIN, Enter submits.
    expect(await page.evaluate('document.activeElement?.getAttribute("name")')).toBe('card');
    await page.keyboard.type('21234000000001');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.getAttribute("name")')).toBe('pin');
    await page.keyboard.type('1234');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${vendorOrigin}/callback**`);

    const callback = new URL(page.url());
    expect(callback.searchParams.get('code')).toBeTruthy();
    const tokens = await oidc.authorizationCodeGrant(v.config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: oidc.skipStateCheck,
    });
    expect(tokens.claims()?.sub).toMatch(/@springfield\.example\.org$/);

    const origins = new Set(requests.map((r) => new URL(r).origin));
    origins.delete(b.issuer);
    expect([...origins]).toEqual([vendorOrigin]);
    const cookies = await context.cookies();
    for (const cookie of cookies) {
      expect(cookie.httpOnly, cookie.name).toBe(true);
      expect(cookie.sameSite, cookie.name).toBe('Lax');
      expect(`${cookie.name}=${cookie.value}`).not.toContain('21234000000001');
    }
    await context.close();
  });

  it('shows a wrong PIN as an alert next to the form, with the PIN field focused', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const { url } = await authorizeUrl();
    await page.goto(url.href);
    await page.fill('input[name=card]', '21234000000001');
    await page.fill('input[name=pin]', '0000');
    await page.click('button[type=submit]');
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('The card number or PIN is not right');
    expect(await page.inputValue('input[name=card]')).toBe('21234000000001');
    expect(await page.inputValue('input[name=pin]')).toBe('');
    expect(page.url().startsWith(b.issuer)).toBe(true);
    // Works with JavaScript off: sign in for real now.
    await page.fill('input[name=pin]', '1234');
    await page.click('button[type=submit]');
    await page.waitForURL(`${vendorOrigin}/callback**`);
    await context.close();
  });

  it('sends a strict Content-Security-Policy and no-referrer on the sign-in page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const { url } = await authorizeUrl();
    const response = await page.goto(url.href);
    const headers = await response?.allHeaders();
    expect(headers?.['content-security-policy']).toContain("default-src 'none'");
    expect(headers?.['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers?.['referrer-policy']).toBe('no-referrer');
    const violations: string[] = [];
    page.on('console', (m) => m.type() === 'error' && violations.push(m.text()));
    await page.reload();
    expect(violations).toEqual([]);
    await context.close();
  });
});
