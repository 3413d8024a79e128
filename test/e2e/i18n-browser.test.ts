// The patron pages in every language, tried as a patron would in headless
// Chromium: every page in English, Spanish, French, Simplified Chinese and
// Arabic has no axe violations and no sideways scrolling on a 320-pixel
// phone, with screenshots at 320 and 1280 pixels kept under
// test-artefacts/screenshots/ (ignored by git); a keyboard-only sign-in in
// Spanish; Arabic right to left; which language wins when several ask.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoPatrons } from '../../src/cli/commands/demo.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { vendor } from '../support/broker.ts';
import { browserAvailable, launchBrowser, startVendorPage, type VendorPage } from '../support/browser.ts';
import { TEST_PEPPER, TEST_PEPPER_HEX, writePatrons } from '../support/patrons.ts';
import { useBroker } from '../support/use-broker.ts';

// The languages the issue asks for (src/locale.ts must offer each).
const LOCALES = ['en', 'es', 'fr', 'zh-Hans', 'ar'] as const;
type Locale = (typeof LOCALES)[number];
const cardOf = (i: number) => `2123400000010${i}`;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const ARTEFACTS = join(import.meta.dirname, '..', '..', 'test-artefacts', 'screenshots');
// What a browser set to each language sends.
const ACCEPT: Record<Locale, string> = { en: 'en-GB', es: 'es-ES', fr: 'fr-FR', 'zh-Hans': 'zh-CN', ar: 'ar-EG' };
const SPANISH_TITLE = 'Entra con tu carné de biblioteca';

async function axeViolations(page: Page): Promise<string[]> {
  // Through the debugger, not a <script>: the page's CSP rightly refuses inline scripts.
  if (!(await page.evaluate('typeof axe !== "undefined"'))) await page.evaluate(axeSource);
  const result = (await page.evaluate('axe.run(document)')) as {
    violations: { id: string; impact: string; nodes: { target: string[] }[] }[];
  };
  return result.violations.map((v) => `${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe.runIf(browserAvailable())('patron pages in five languages', () => {
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
    await writeDemoPatrons(join(dir, 'data', 'demo-patrons.yaml'), TEST_PEPPER);
    // One patron per language, so the languages' runs can go side by side.
    await writePatrons(join(dir, 'data', 'springfield.yaml'), [
      ...LOCALES.map((_, i) => ({ card: cardOf(i), pin: '1234', id: `p${i}` })),
      { card: '21234000000001', pin: '1234', id: 'p-1' },
      { card: '21234000000002', pin: '2345', id: 'p-2' },
      { card: '21234000000003', pin: '3456', id: 'p-3', status: 'blocked' },
    ]);
    await writePatrons(join(dir, 'data', 'shelbyville.yaml'), [{ card: 'S0001', pin: '1111', id: 'shelby-1' }]);
    const config: Partial<ConfigInput> = {
      keys: { dir: join(dir, 'keys'), pinPepper: TEST_PEPPER_HEX },
      // Every language's run types one wrong PIN on purpose: no slowing down.
      throttle: {
        card: { delayAfter: 50, lockAfter: 100, window: 900, lock: 900 },
        address: { lockAfter: 1000, window: 900, lock: 900 },
      },
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
          pinInput: 'numeric',
          colours: { accent: '#1d4f91', accentText: '#ffffff', dark: { accent: '#8ab4f8', accentText: '#111111' } },
          help: {
            phone: '+1 555 0100',
            email: 'help@springfield.example.org',
            url: 'https://springfield.example.org/help',
          },
          authenticators: [{ id: 'springfield-patrons', kind: 'file', path: join(dir, 'data', 'springfield.yaml') }],
        },
        {
          id: 'shelbyville',
          name: 'Bibliothèque de Shelbyville',
          realm: 'shelbyville',
          language: 'fr',
          cardPatterns: ['/^S[0-9]{4}$/'],
          messages: { fr: { 'login.card': 'Numéro d’abonné·e' } },
          authenticators: [{ id: 'shelbyville-patrons', kind: 'file', path: join(dir, 'data', 'shelbyville.yaml') }],
        },
      ],
      clients: [
        {
          client_id: 'sharing-vendor',
          client_name: 'Sharing Vendor',
          client_secret: 'sharing-secret',
          redirect_uris: [callback],
          release: ['library', 'affiliation'],
          policy_uri: 'https://vendor.example/privacy',
        },
        {
          client_id: 'plain-vendor',
          client_name: 'Plain Vendor',
          client_secret: 'plain-secret',
          redirect_uris: [callback],
        },
      ],
    };
    return { config };
  });
  beforeAll(async () => {
    browser = await launchBrowser();
    mkdirSync(ARTEFACTS, { recursive: true });
  });

  async function authorize(
    clientId: 'sharing-vendor' | 'plain-vendor',
    extra: Record<string, string> = {},
  ): Promise<string> {
    const secret = clientId === 'sharing-vendor' ? 'sharing-secret' : 'plain-secret';
    const v = await vendor(b.issuer, clientId, secret, callback);
    const scope = clientId === 'sharing-vendor' ? 'openid library affiliation' : 'openid';
    return oidc.buildAuthorizationUrl(v.config, { redirect_uri: callback, scope, state: 's', ...extra }).href;
  }

  // One page as a patron on a 320-pixel phone would meet it: in the
  // expected language and direction, no axe violations, nothing sideways;
  // then its screenshots at 320 and 1280 pixels.
  async function check(page: Page, locale: Locale, name: string): Promise<void> {
    const where = `${locale} ${name} (${page.url()})`;
    expect(await page.getAttribute('html', 'lang'), where).toBe(locale);
    expect(await page.getAttribute('html', 'dir'), where).toBe(locale === 'ar' ? 'rtl' : 'ltr');
    expect(await axeViolations(page), where).toEqual([]);
    const [width, viewport] = (await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]')) as [
      number,
      number,
    ];
    if (width > viewport) {
      // Name the culprits, so a failure says what to fix.
      const wide = await page.evaluate(`[...document.querySelectorAll('body *')]
        .filter((e) => !e.closest('pre, .scroll'))
        .filter((e) => { const r = e.getBoundingClientRect(); return r.right > innerWidth + 0.5 || r.left < -0.5; })
        .slice(0, 8).map((e) => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')).join(', ')`);
      expect.fail(`${where}: document ${width} px wide in a ${viewport} px window: ${wide}`);
    }
    await artefact(page, `${name}-${locale}-320.png`);
    await page.setViewportSize({ width: 1280, height: 900 });
    await artefact(page, `${name}-${locale}-1280.png`);
    await page.setViewportSize({ width: 320, height: 640 });
  }

  // Screenshots are for people to look at, not assertions: one that times
  // out on a starved machine (30 s, seen with two suites running at once)
  // is left out, loudly, and the checks above still decide the test.
  async function artefact(page: Page, file: string): Promise<void> {
    try {
      await page.screenshot({ path: join(ARTEFACTS, file), fullPage: true });
    } catch (error) {
      if ((error as Error).name !== 'TimeoutError') throw error;
      process.stderr.write(`i18n-browser: screenshot ${file} left out: ${(error as Error).message.split('\n')[0]}\n`);
    }
  }

  async function phone(locale: Locale, options: { javaScriptEnabled?: boolean } = {}): Promise<BrowserContext> {
    return browser.newContext({
      viewport: { width: 320, height: 640 },
      locale: ACCEPT[locale],
      ...options,
    });
  }

  // Side by side: one browser, a context and a patron per language.
  it.concurrent.each(LOCALES)(
    'every patron page in %s: no axe violations, nothing wider than 320 px',
    { timeout: 240_000 },
    async (locale) => {
      const context = await phone(locale);
      const page = await context.newPage();
      const card = cardOf(LOCALES.indexOf(locale));
      for (const [name, path] of [
        ['home', '/'],
        ['privacy', '/privacy'],
        ['vendors', '/vendors'],
        ['button', '/button'],
        ['developers', '/developers'],
        ['not-found', '/no-such-page'],
      ] as const) {
        await page.goto(`${b.issuer}${path}`);
        await check(page, locale, name);
      }

      // The sign-in: card first (card patterns tell the libraries apart).
      await page.goto(await authorize('sharing-vendor'));
      await check(page, locale, 'login');
      await page.fill('input[name=card]', card);
      await page.fill('input[name=pin]', '0000');
      await page.click('form[autocomplete] button[type=submit]');
      await page.waitForSelector('[role=alert]');
      await check(page, locale, 'login-error');

      // The chooser, and a library's own page from it.
      await page.click('a[href$="/libraries"]');
      await page.waitForSelector('input[type=search]');
      await check(page, locale, 'chooser');
      await page.fill('input[type=search]', 'Springfield');
      await page.press('input[type=search]', 'Enter');
      await page.waitForSelector('ul.libraries a');
      await page.click('ul.libraries a');
      await page.waitForSelector('input[name=card]');
      await check(page, locale, 'login-library');

      // Consent, then back at the vendor.
      await page.fill('input[name=card]', card);
      await page.fill('input[name=pin]', '1234');
      await page.click('form[autocomplete] button[type=submit]');
      await page.waitForSelector('button[value=allow]');
      await check(page, locale, 'consent');
      await page.click('button[value=allow]');
      await page.waitForURL(`${callback}**`);

      // Signing out of the broker.
      await page.goto(`${b.issuer}/session/end`);
      await page.waitForSelector('button[name=logout]');
      await check(page, locale, 'logout');
      await page.click('button[name=logout]');
      await page.waitForSelector('h1');
      await check(page, locale, 'logged-out');

      // The privacy page asks for the card again, then lists the vendor.
      await page.goto(`${b.issuer}/account`);
      await page.fill('input[name=card]', card);
      await page.fill('input[name=pin]', '1234');
      await page.click('form[autocomplete] button[type=submit]');
      await page.waitForURL(`${b.issuer}/account`);
      await check(page, locale, 'account');
      await page.goto(`${b.issuer}/account/confirm?action=forget`);
      await check(page, locale, 'account-confirm');
      await page.click('main form button[type=submit]');
      await page.waitForSelector('h1');
      await check(page, locale, 'forgotten');
      await context.close();
    },
  );

  it('signs in in Spanish by keyboard alone (ui_locales=es), wrong PIN first', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(await authorize('plain-vendor', { ui_locales: 'es' }));
    expect(await page.title()).toBe(`${SPANISH_TITLE} – Entrar con tu biblioteca`);
    expect(await page.evaluate('document.activeElement?.getAttribute("name")')).toBe('card');
    await page.keyboard.type('21234000000001');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.getAttribute("name")')).toBe('pin');
    await page.keyboard.type('9999');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[role=alert]');
    expect(await page.getByRole('alert').textContent()).toContain('El número de carné o el PIN no es correcto');
    // The title counts the error; the PIN has focus again.
    expect(await page.title()).toBe(`Error: ${SPANISH_TITLE} – Entrar con tu biblioteca`);
    expect(await page.evaluate('document.activeElement?.getAttribute("name")')).toBe('pin');
    await page.keyboard.type('1234');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${callback}**`);
    expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
    await context.close();
  });

  it('mirrors the page in Arabic, chosen from the switcher without JavaScript, and keeps the choice', async () => {
    const context = await browser.newContext({ locale: 'en-US', javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(await authorize('plain-vendor'));
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    const signInUrl = page.url();
    await page.click('nav.languages a[hreflang=ar]');
    // The same sign-in, now in Arabic and right to left.
    expect(page.url().split('?')[0]).toBe(signInUrl.split('?')[0]);
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    expect(await page.getAttribute('html', 'lang')).toBe('ar');
    expect(await page.locator('h1').textContent()).toBe('سجّل الدخول ببطاقة مكتبتك');
    // Logical properties: the card's text starts on the right.
    const card = page.locator('main');
    const box = await card.boundingBox();
    const h1 = await page.locator('h1').boundingBox();
    expect((h1?.x ?? 0) + (h1?.width ?? 0)).toBeGreaterThan((box?.x ?? 0) + (box?.width ?? 0) - 40);
    expect(await page.locator('nav.languages a[aria-current]').getAttribute('hreflang')).toBe('ar');
    // A wrong PIN: the alert and the title in Arabic, the PIN marked.
    await page.fill('input[name=card]', '21234000000001');
    await page.fill('input[name=pin]', '0000');
    await page.click('form[autocomplete] button[type=submit]');
    expect(await page.getByRole('alert').textContent()).toContain('رقم البطاقة أو الرقم السري غير صحيح');
    expect(await page.title()).toMatch(/^خطأ: /);
    // The switcher after a form post leads back to the sign-in, not to the post.
    expect(await page.locator('nav.languages a[hreflang=es]').getAttribute('href')).toMatch(
      /^\/interaction\/[^/?]+\?lang=es$/,
    );
    // Kept in a strictly necessary cookie for the next page.
    const cookie = (await context.cookies()).find((c) => c.name === 'patronym_lang');
    expect(cookie?.value).toBe('ar');
    expect(cookie?.httpOnly).toBe(true);
    await page.goto(`${b.issuer}/privacy`);
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    expect(await page.locator('table').textContent()).toContain('patronym_lang');
    await context.close();
  });

  it('takes the switcher, then ui_locales, then Accept-Language, then the library, then English', async () => {
    const lang = async (acceptLanguage: string, url: string) => {
      const context = await browser.newContext({ locale: acceptLanguage, javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto(url);
      const found = await page.getAttribute('html', 'lang');
      await context.close();
      return found;
    };
    const shelbyville = { library: 'shelbyville' };
    expect(await lang('fr-FR', await authorize('plain-vendor', { ui_locales: 'de es' }))).toBe('es');
    expect(await lang('zh-CN', await authorize('plain-vendor', { ui_locales: 'de' }))).toBe('zh-Hans');
    expect(await lang('de-DE', await authorize('plain-vendor', shelbyville))).toBe('fr');
    expect(await lang('ar', await authorize('plain-vendor', shelbyville))).toBe('ar');
    expect(await lang('de-DE', await authorize('plain-vendor'))).toBe('en');
    expect(
      await lang(
        'fr-FR',
        `${(await authorize('plain-vendor', { ui_locales: 'ar', ...shelbyville })).replace('?', '?lang=es&')}`,
      ),
    ).toBe('es');
    // After a wrong PIN too: the library's language, alert included.
    const context = await browser.newContext({ locale: 'de-DE', javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(await authorize('plain-vendor', shelbyville));
    await page.fill('input[name=card]', 'S0001');
    await page.fill('input[name=pin]', '9999');
    await page.click('form[autocomplete] button[type=submit]');
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    expect(await page.getByRole('alert').textContent()).toContain(
      'Le numéro de carte ou le code PIN n’est pas correct',
    );
    await context.close();
    const discovery = (await (await fetch(`${b.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery.ui_locales_supported).toEqual(['en', 'es', 'fr', 'zh-Hans', 'ar']);
  });

  it("shows each library's keyboards, wording and help; marks only the field at fault; consent asks without pushing", async () => {
    const context = await browser.newContext({ locale: 'en-US', javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(await authorize('plain-vendor', { library: 'springfield' }));
    expect(await page.getAttribute('#card', 'inputmode')).toBe('numeric');
    expect(await page.getAttribute('#pin', 'inputmode')).toBe('numeric');
    const footer = page.locator('footer');
    expect(await footer.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')))).toEqual([
      '/privacy',
      '/vendors',
      '/account',
      'tel:+15550100',
      'mailto:help@springfield.example.org',
      'https://springfield.example.org/help',
    ]);
    // "Enter your PIN": the PIN is at fault, not the card.
    await page.fill('input[name=card]', '21234000000001');
    await page.click('form[autocomplete] button[type=submit]');
    expect(await page.getByRole('alert').textContent()).toContain('Enter your PIN.');
    expect(await page.getAttribute('#card', 'aria-invalid')).toBeNull();
    expect(await page.getAttribute('#pin', 'aria-invalid')).toBe('true');
    // A card refused for its status is no field's fault.
    await page.fill('input[name=card]', '21234000000003');
    await page.fill('input[name=pin]', '3456');
    await page.click('form[autocomplete] button[type=submit]');
    expect(await page.getByRole('alert').textContent()).toContain('cannot be used to sign in');
    expect(await page.locator('[aria-invalid]').count()).toBe(0);

    await page.goto(await authorize('plain-vendor', { library: 'shelbyville' }));
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.getAttribute('#card', 'inputmode')).toBe('text');
    expect(await page.getAttribute('#pin', 'inputmode')).toBeNull();
    // The library's own word for its card, in French only.
    await page.goto(`${page.url()}?lang=fr`);
    expect(await page.locator('label[for=card]').textContent()).toBe('Numéro d’abonné·e');

    // Consent: nothing focused for the patron, the privacy page a link, and
    // what "Don't allow" does said next to it.
    // (The French switcher choice above would win over ui_locales.)
    await context.clearCookies();
    await page.goto(await authorize('sharing-vendor', { library: 'springfield', ui_locales: 'en' }));
    await page.fill('input[name=card]', '21234000000002');
    await page.fill('input[name=pin]', '2345');
    await page.click('form[autocomplete] button[type=submit]');
    await page.waitForSelector('button[value=allow]');
    expect(await page.getAttribute('button[value=allow]', 'autofocus')).toBeNull();
    expect(await page.locator('main a[href="/account"]').count()).toBe(1);
    expect(await page.locator('#deny-hint').textContent()).toContain('cancels the sign-in');
    expect(await page.getAttribute('button[value=deny]', 'aria-describedby')).toBe('deny-hint');
    await page.click('button[value=deny]');
    await page.waitForURL(`${callback}**`);
    expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');

    // A library with a dark variant is dark in dark mode, and still passes axe.
    const dark = await browser.newContext({ locale: 'en-US', colorScheme: 'dark' });
    const night = await dark.newPage();
    await night.goto(await authorize('plain-vendor', { library: 'springfield' }));
    expect(await night.evaluate('getComputedStyle(document.querySelector("form button")).backgroundColor')).toBe(
      'rgb(138, 180, 248)',
    );
    expect(await night.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(18, 18, 18)');
    expect(await axeViolations(night)).toEqual([]);
    await dark.close();

    // The landing page: what this is, and the libraries it serves.
    const home = await fetch(`${b.issuer}/`, { headers: { 'accept-language': 'en' } });
    expect(home.status).toBe(200);
    const text = await home.text();
    expect(text).toContain('Bibliothèque de Shelbyville');
    expect(text).toContain('Springfield Public Library');
    await context.close();
  });
});
