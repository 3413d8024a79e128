import * as oidc from 'openid-client';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLogin, submitLogin, type Vendor, vendor } from '../support/broker.ts';
import { browserAvailable, launchBrowser, startVendorPage, type VendorPage } from '../support/browser.ts';
import { useBroker } from '../support/use-broker.ts';

const PATRON = { card: '21234000000001', pin: '1234' };

describe.runIf(browserAvailable())('device cookies in headless Chromium', () => {
  let browser: Browser;
  let vendorPage: VendorPage | undefined;
  let vendorOrigin: string;
  let v: Vendor;

  afterAll(async () => {
    await browser?.close();
    vendorPage?.close();
  });
  const b = useBroker(async () => {
    vendorPage = await startVendorPage();
    vendorOrigin = new URL(vendorPage.callback).origin;
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
    v = await vendor(b.issuer, 'browser-vendor', 'browser-vendor-secret', `${vendorOrigin}/callback`);
    browser = await launchBrowser();
  });

  // Card + PIN on the sign-in page; resolves with where the browser ended up.
  async function signIn(context: BrowserContext, pin: string): Promise<{ url: string; text: string }> {
    const page = await context.newPage();
    const url = oidc.buildAuthorizationUrl(v.config, {
      redirect_uri: v.redirectUri,
      scope: 'openid',
      state: oidc.randomState(),
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    await page.goto(url.href);
    await page.fill('input[name=card]', PATRON.card);
    await page.fill('input[name=pin]', pin);
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    await page.waitForLoadState('load');
    const result = { url: page.url(), text: (await page.textContent('body')) ?? '' };
    await page.close();
    return result;
  }

  it('lets the browser that signed in before past a lock a stranger put on the card', async () => {
    const owner = await browser.newContext();
    expect((await signIn(owner, PATRON.pin)).url).toMatch(new RegExp(`^${vendorOrigin}/callback\\?code=`));
    const device = (await owner.cookies()).find((c) => c.name === 'patronym_device');
    expect(device).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(device?.expires).toBeGreaterThan(Date.now() / 1000 + 170 * 86_400);
    expect(device?.value).not.toContain(PATRON.card);
    await owner.close();

    // a stranger who knows the card number
    for (let i = 0; i < 10; i++) {
      await submitLogin(await startLogin(v, b.issuer), b.issuer, PATRON.card, String(7000 + i));
    }
    const stranger = await browser.newContext();
    const refused = await signIn(stranger, PATRON.pin);
    expect(refused.url.startsWith(b.issuer)).toBe(true);
    expect(refused.text).toContain('locked for 15 minutes');
    await stranger.close();

    // the owner's browser after a restart: only the persistent cookie is left
    const restarted = await browser.newContext();
    await restarted.addCookies(device ? [device] : []);
    expect((await signIn(restarted, PATRON.pin)).url).toMatch(new RegExp(`^${vendorOrigin}/callback\\?code=`));
    await restarted.close();
  });
});
