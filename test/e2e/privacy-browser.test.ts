// The patron's privacy page in a real browser, without JavaScript: sign in
// with card and PIN, see the vendor, reset its pseudonym, forget me.
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeLogin, startLogin, submitLogin, vendor } from '../support/broker.ts';
import { browserAvailable, launchBrowser } from '../support/browser.ts';
import { useBroker } from '../support/use-broker.ts';

describe.runIf(browserAvailable())('privacy page in headless Chromium', () => {
  let browser: Browser;
  const b = useBroker();
  beforeAll(async () => {
    browser = await launchBrowser();
    // One real sign-in at a vendor, so the page has something to show.
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const s = await startLogin(v, b.issuer);
    const done = await submitLogin(s, b.issuer, '21234000000001', '1234');
    await completeLogin(v, s, done.leftFor as string);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('signs in, lists the vendor, resets its pseudonym after confirming, then forgets the patron', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const origins = new Set<string>();
    page.on('request', (r) => origins.add(new URL(r.url()).origin));
    await page.goto(`${b.issuer}/account`);
    await page.fill('input[name=card]', '21234000000001');
    await page.fill('input[name=pin]', '1234');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${b.issuer}/account`);
    expect(await page.locator('h1').textContent()).toBe('Your privacy');
    expect(await page.locator('section.vendor h2').allTextContents()).toEqual(['Demo Vendor']);

    await page.click('text=Give this website a new pseudonym');
    expect(await page.locator('h1').textContent()).toBe('Give Demo Vendor a new pseudonym?');
    await page.click('button:has-text("Yes, go ahead")');
    // The notice comes from the privacy-page session, not from the URL.
    await page.waitForURL(`${b.issuer}/account`);
    expect(await page.getByRole('status').textContent()).toContain('Demo Vendor now sees a new pseudonym for you.');
    // and is said once
    await page.reload();
    expect(await page.getByRole('status').count()).toBe(0);

    await page.click('a:has-text("Forget me")');
    await page.click('button:has-text("Yes, go ahead")');
    expect(await page.locator('h1').textContent()).toBe('You are forgotten');
    expect([...origins]).toEqual([b.issuer]);
    // The privacy page session is gone with the patron.
    await page.goto(`${b.issuer}/account`);
    expect(await page.locator('input[name=card]').count()).toBe(1);
    await context.close();
  });

  it('on a shared computer, asks the next person for the card even with the last sign-in still open', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const signIn = oidc.buildAuthorizationUrl(v.config, {
      redirect_uri: v.redirectUri,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    await page.goto(signIn.href);
    await page.fill('input[name=card]', '21234000000002');
    await page.fill('input[name=pin]', '2345');
    // The vendor's callback is not running: seeing the browser sent there is enough.
    const backAtVendor = page.waitForRequest((r) => r.url().startsWith('http://localhost:3001/callback?code='));
    await page.keyboard.press('Enter');
    await backAtVendor;
    // the broker session is open in this browser, and a second older
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await page.goto(`${b.issuer}/account`);
    expect(await page.locator('input[name=card]').count()).toBe(1);
    // the same with prompt=login and max_age taken out of the address
    const resume = await context.request.get(`${b.issuer}/account`, { maxRedirects: 0 });
    const auth = new URL(resume.headers().location as string, b.issuer);
    auth.searchParams.delete('prompt');
    auth.searchParams.delete('max_age');
    await page.goto(auth.href);
    expect(await page.locator('input[name=card]').count()).toBe(1);
    expect(await page.locator('h1').textContent()).not.toBe('Your privacy');
    await context.close();
  });
});
