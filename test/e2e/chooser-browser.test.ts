// The library chooser in a real browser, by keyboard, with JavaScript off.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vendor } from '../support/broker.ts';
import { browserAvailable, launchBrowser, startVendorPage, type VendorPage } from '../support/browser.ts';
import { CITY_OLD, consortium, writeConsortiumPatrons } from '../support/consortium.ts';
import { useBroker } from '../support/use-broker.ts';

describe.runIf(browserAvailable())('library chooser in headless Chromium', () => {
  let browser: Browser;
  let vendorPage: VendorPage | undefined;
  let callback: string;

  afterAll(async () => {
    await browser?.close();
    vendorPage?.close();
  });
  const b = useBroker(async ({ dir }) => {
    vendorPage = await startVendorPage();
    callback = vendorPage.callback;
    await writeConsortiumPatrons(dir);
    return {
      config: {
        ...consortium(dir),
        clients: [{ client_id: 'v', client_secret: 'v-secret', redirect_uris: [callback] }],
      },
    };
  });
  beforeAll(async () => {
    rmSync(join(b.dir, 'missing.yaml'));
    browser = await launchBrowser();
  });

  it('finds a library by town and signs in, by keyboard alone, without JavaScript', async () => {
    const v = await vendor(b.issuer, 'v', 'v-secret', callback);
    const url = oidc.buildAuthorizationUrl(v.config, {
      redirect_uri: callback,
      scope: 'openid',
      state: 's',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(new URL(r.url()).origin));
    await page.goto(url.href);

    // From the card field, Tab through PIN and the button to the chooser link.
    const focused = () =>
      page.evaluate('document.activeElement?.textContent?.trim() || document.activeElement?.getAttribute("name")');
    for (let i = 0; i < 6 && (await focused()) !== 'Or choose your library first'; i++)
      await page.keyboard.press('Tab');
    expect(await focused()).toBe('Or choose your library first');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/libraries$/);
    expect(await page.title()).toContain('Choose your library');

    // The search field has focus: type a town, submit with Enter.
    await page.keyboard.type('metropolis');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=metropolis/);
    const names = await page.locator('ul.libraries .name').allTextContents();
    expect(names).toEqual(['City Central Library', 'East Reading Room']);

    // Tab to the first result and open it.
    for (let i = 0; i < 6 && (await focused()) !== 'City Central Library Metropolis'; i++)
      await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('input[name=card]');
    expect(await page.locator('header.library').textContent()).toContain('City Central Library');

    await page.keyboard.type(CITY_OLD.card);
    await page.keyboard.press('Tab');
    await page.keyboard.type(CITY_OLD.pin);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${callback}**`);
    expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
    expect(new Set(requests)).toEqual(new Set([b.issuer, new URL(callback).origin]));
    const cookie = (await context.cookies()).find((c) => c.name === 'patronym_library');
    expect(cookie?.value).toBe('central');
    await context.close();
  });
});
