// A state-wide consortium in the browser: 1,000 libraries in 50 systems.
// The chooser groups them by system, pages them, finds every branch of a
// system by the system's name, fits a 320-pixel phone with no axe
// violations, and after a card that matches no library offers the search
// rather than burying the message under the whole list.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { vendor } from '../support/broker.ts';
import { browserAvailable, launchBrowser } from '../support/browser.ts';
import { TEST_PEPPER_HEX, writePatrons } from '../support/patrons.ts';
import { useBroker } from '../support/use-broker.ts';

const SYSTEMS = 50;
const BRANCHES = 20;
const CALLBACK = 'http://127.0.0.1:9/callback';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

async function consortium(dir: string): Promise<Partial<ConfigInput>> {
  const realms = [];
  const authenticators = [];
  const libraries = [];
  for (let s = 0; s < SYSTEMS; s++) {
    const name = s === 7 ? 'Boone County Libraries' : `Region ${String(s).padStart(2, '0')} Library System`;
    realms.push({ id: `system${s}`, name, scope: `system${s}.example.org` });
    const path = join(dir, `system${s}.yaml`);
    await writePatrons(path, []);
    authenticators.push({ id: `ils${s}`, kind: 'file' as const, path });
    for (let b = 0; b < BRANCHES; b++) {
      libraries.push({
        id: `system${s}-branch${b}`,
        name: `${s === 7 ? 'Boone' : `Region ${s}`} Branch ${String(b).padStart(2, '0')}`,
        town: `Town ${s}-${b}`,
        realm: `system${s}`,
        cardPatterns: [`/^${21000 + s}[0-9]{9}$/`],
        authenticators: [`ils${s}`],
      });
    }
  }
  return {
    keys: { dir: join(dir, 'keys'), pinPepper: TEST_PEPPER_HEX },
    realms,
    authenticators,
    libraries,
    clients: [{ client_id: 'v', client_secret: 'v-secret', redirect_uris: [CALLBACK] }],
  } as Partial<ConfigInput>;
}

async function axeViolations(page: Page): Promise<string[]> {
  // Through the debugger, not a <script>: the page's CSP rightly refuses inline scripts.
  await page.evaluate(axeSource);
  const result = (await page.evaluate('axe.run(document)')) as { violations: { id: string; impact: string }[] };
  return result.violations.map((v) => `${v.id} (${v.impact})`);
}

describe.runIf(browserAvailable())('a consortium of 1,000 libraries', () => {
  let browser: Browser;
  let input: Partial<ConfigInput>;

  afterAll(async () => {
    await browser?.close();
  });
  const b = useBroker(async ({ dir }) => {
    input = await consortium(dir);
    return { config: input };
  });
  beforeAll(async () => {
    browser = await launchBrowser();
  });

  async function signInPage(page: Page): Promise<void> {
    const v = await vendor(b.issuer, 'v', 'v-secret', CALLBACK);
    const url = oidc.buildAuthorizationUrl(v.config, { redirect_uri: CALLBACK, scope: 'openid', state: 's' });
    await page.goto(url.href);
    await page.waitForSelector('input[name=card]');
  }

  it('groups the chooser by system, pages it, and fits a 320-pixel phone without axe violations', async () => {
    const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
    const page = await context.newPage();
    await signInPage(page);
    await page.getByRole('link', { name: 'Or choose your library first' }).click();
    await page.waitForURL(/\/libraries$/);

    expect(await page.locator('ul.libraries a').count()).toBe(50);
    expect(await page.locator('h2.system').first().textContent()).toBe('Boone County Libraries');
    expect(await page.locator('#chooser-count').textContent()).toContain('page 1 of 20');
    expect(await page.locator('nav.letters a').allTextContents()).toEqual(['B', 'R']);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(320);
    expect(await axeViolations(page)).toEqual([]);
    const size = (await page.content()).length;
    expect(size).toBeLessThan(40_000);

    await page.getByRole('link', { name: 'Next page' }).click();
    await page.waitForURL(/page=2/);
    expect(await page.locator('#chooser-count').textContent()).toContain('page 2 of 20');
    // Page 1 ended halfway through Region 01: its heading is repeated.
    expect(await page.locator('h2.system').first().textContent()).toBe('Region 01 Library System');
    await context.close();
  });

  it('finds every branch of a system by the system name, and a branch by its town', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signInPage(page);
    await page.getByRole('link', { name: 'Or choose your library first' }).click();
    await page.getByLabel('Search by library, town or library system').fill('boone county');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=boone/);
    expect(await page.locator('ul.libraries a').count()).toBe(BRANCHES);
    expect(await page.locator('h2.system').allTextContents()).toEqual(['Boone County Libraries']);

    await page.getByLabel('Search by library, town or library system').fill('Town 31-4');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=Town/);
    expect(await page.locator('ul.libraries .name').allTextContents()).toEqual(['Region 31 Branch 04']);
    await context.close();
  });

  it('after a card that matches no library, shows the message and the search, not 1,000 libraries', async () => {
    const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
    const page = await context.newPage();
    await signInPage(page);
    await page.fill('input[name=card]', '99999000000001');
    await page.fill('input[name=pin]', '1234');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[role=alert]');
    expect(await page.locator('ul.libraries a').count()).toBe(0);
    expect(await page.locator('input[name=q]').count()).toBe(1);
    expect(await page.locator('nav.letters a').count()).toBe(2);
    expect(await axeViolations(page)).toEqual([]);

    await page.getByRole('link', { name: 'B', exact: true }).click();
    await page.waitForURL(/letter=B/);
    expect(await page.locator('ul.libraries a').count()).toBe(BRANCHES);
    await context.close();
  });

  it('reloads 1,000 libraries while keep-alive clients keep asking, and no request fails', {
    timeout: 90_000,
  }, async () => {
    let reloading = true;
    const statuses: number[] = [];
    const failures: string[] = [];
    const client = async () => {
      while (reloading) {
        try {
          const response = await fetch(`${b.issuer}/.well-known/openid-configuration`);
          await response.arrayBuffer();
          statuses.push(response.status);
        } catch (error) {
          failures.push(String((error as Error).cause ?? error));
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    const libraries = input.libraries as { name: string }[];
    for (let i = 0; i < 3; i++) {
      (libraries[0] as { name: string }).name = `Boone Branch 00, reload ${i}`;
      b.writeConfig(input);
      expect(await b.reload()).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    reloading = false;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect(statuses.length).toBeGreaterThan(20);
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(b.broker.libraries.get('system0-branch0')?.name).toBe('Boone Branch 00, reload 2');
  });
});
