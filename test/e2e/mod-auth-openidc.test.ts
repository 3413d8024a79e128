// A stock relying party: Apache httpd with mod_auth_openidc, configured with
// the guide's own example (docs/vendors.md), protecting a page. A patron
// signs in through headless Chromium; the page Apache serves must carry the
// pairwise pseudonym and nothing that identifies the patron.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePatronFile } from '../../src/auth/file/patron-file.ts';
import { hashPin } from '../../src/auth/file/pin-hash.ts';
import { deriveAccountId, derivePseudonym } from '../../src/pseudonym/derive.ts';
import { codeBlocks } from '../../src/vendors/markdown.ts';
import { apacheAvailable, freePort, type RunningApache, startApache } from '../support/apache.ts';
import { login, vendor } from '../support/broker.ts';
import { browserAvailable, launchBrowser } from '../support/browser.ts';
import { TEST_PEPPER, TEST_PEPPER_HEX } from '../support/patrons.ts';
import { useBroker } from '../support/use-broker.ts';

// A patron whose library system knows a name, an email and a birth date:
// none of it may reach the vendor.
const PATRON = {
  card: '21234000000077',
  pin: '7777',
  id: 'spring-0077',
  attributes: { displayName: ['Marge Bouvier'], mail: ['marge@bouvier.example'], birthDate: ['1956-03-19'] },
};
const PII = [PATRON.card, PATRON.pin, PATRON.id, 'Marge', 'Bouvier', 'marge@', '1956-03-19'];
const CLIENT = { id: 'apache-vendor', secret: 'apache-vendor-secret-0123456789' };

const guide = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'vendors.md'), 'utf8');
const example = codeBlocks(guide).find((b) => b.info.startsWith('apache'))?.code ?? '';

// The guide's placeholders, filled in as a vendor would.
function vendorConfig(issuer: string, origin: string): string {
  return example
    .replaceAll('https://signin.library.example', issuer)
    .replaceAll('https://www.vendor.example', origin)
    .replaceAll('your-client-id', CLIENT.id)
    .replaceAll('your-client-secret', CLIENT.secret);
}

// The protected page: a server-side include echoing what the module gives
// the application, every variable of it.
const PAGE = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Apache vendor</title>
<p>Signed in as <code id="sub"><!--#echo var="OIDC_CLAIM_sub" --></code></p>
<p>REMOTE_USER <code id="user"><!--#echo var="REMOTE_USER" --></code></p>
<pre id="env"><!--#printenv --></pre>
</html>
`;

// The vendor's own page for a sign-in that did not happen (mod_auth_openidc
// fills in the two %s with the error and its description, escaped).
const ERROR_PAGE = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Vendor</title>
<p id="vendor-error">You did not sign in. <a href="/library/">Sign in with your library</a></p>
<p>%s: %s</p>
</html>
`;

describe.runIf(apacheAvailable() && browserAvailable())('Apache with mod_auth_openidc as a vendor', () => {
  let apache: RunningApache;
  let browser: Browser;
  let origin: string;
  let port: number;

  afterAll(async () => {
    await browser?.close();
    await apache?.stop();
  });
  const b = useBroker(async ({ dir }) => {
    expect(example).toContain('OIDCProviderMetadataURL');
    port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    const patrons = join(dir, 'patrons.yaml');
    writePatronFile(patrons, [
      { ...PATRON, pin: await hashPin(TEST_PEPPER, PATRON.pin, { ln: 10, r: 8, p: 1 }), status: 'active' },
    ]);
    return {
      config: {
        keys: { dir: join(dir, 'keys'), pinPepper: TEST_PEPPER_HEX },
        libraries: [
          {
            id: 'springfield',
            name: 'Springfield Public Library',
            realm: 'springfield',
            cardPatterns: ['21234'],
            authenticators: [{ id: 'springfield-patrons', kind: 'file', path: patrons }],
          },
        ],
        clients: [
          {
            client_id: CLIENT.id,
            client_name: 'Apache Vendor',
            client_secret: CLIENT.secret,
            token_endpoint_auth_method: 'client_secret_basic',
            redirect_uris: [`${origin}/library/redirect_uri`],
            post_logout_redirect_uris: [`${origin}/`],
          },
          {
            client_id: 'demo-vendor',
            client_secret: 'demo-vendor-secret',
            redirect_uris: ['http://localhost:3001/callback'],
          },
        ],
      },
    };
  });
  beforeAll(async () => {
    apache = await startApache({
      port,
      // The guide's configuration, plus the module's info hook so the test
      // can see every claim the module stored for the session.
      site: (dir) =>
        `${vendorConfig(b.issuer, origin)}\nOIDCInfoHook iat id_token userinfo\nOIDCHTMLErrorTemplate ${dir}/htdocs/error.html\n`,
      files: {
        'library/index.shtml': PAGE,
        'index.html': '<!doctype html><title>home</title><p>home</p>',
        'error.html': ERROR_PAGE,
      },
    });
    browser = await launchBrowser();
  });

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${origin}/library/`);
    // mod_auth_openidc sent the browser to the broker's sign-in page.
    expect(page.url().startsWith(`${b.issuer}/interaction/`)).toBe(true);
    await page.fill('input[name=card]', PATRON.card);
    await page.fill('input[name=pin]', PATRON.pin);
    await page.click('button[type=submit]');
    await page.waitForURL(`${origin}/library/`);
  }

  const expectedSub = () =>
    derivePseudonym(b.keys.pairwiseKey, {
      sector: '127.0.0.1',
      accountId: deriveAccountId(b.keys.accountKey, 'springfield', PATRON.id),
      generation: 0,
      scope: 'springfield.example.org',
    });

  it('signs a patron in and shows the protected page with the pairwise pseudonym and no PII', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signIn(page);
      const sub = await page.textContent('#sub');
      expect(sub).toBe(expectedSub());
      expect(await page.textContent('#user')).toBe(sub);
      const everything = (await page.content()) + apache.errorLog();
      for (const value of PII) expect(everything).not.toContain(value);

      // Every claim the module stored: the pseudonym and token bookkeeping only.
      const info = await page.goto(`${origin}/library/redirect_uri?info=json`);
      const stored = (await info?.json()) as { id_token: Record<string, unknown>; userinfo?: Record<string, unknown> };
      expect(stored.id_token.sub).toBe(sub);
      expect(Object.keys(stored.id_token).sort()).toEqual(expect.arrayContaining(['aud', 'exp', 'iat', 'iss', 'sub']));
      const allowed = [
        'acr',
        'at_hash',
        'aud',
        'auth_time',
        'azp',
        'exp',
        'iat',
        'iss',
        'nonce',
        'sid',
        'sub',
        'c_hash',
      ];
      for (const claim of Object.keys(stored.id_token)) expect(allowed, claim).toContain(claim);
      for (const claim of Object.keys(stored.userinfo ?? {})) expect(['sub'], claim).toContain(claim);
      const json = JSON.stringify(stored);
      for (const value of PII) expect(json).not.toContain(value);
    } finally {
      await context.close();
    }
  });

  it('gives the same patron the same pseudonym next time, and another vendor an unrelated one', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signIn(page);
      expect(await page.textContent('#sub')).toBe(expectedSub());
    } finally {
      await context.close();
    }
    const other = await login(
      await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret'),
      b.issuer,
      PATRON.card,
      PATRON.pin,
    );
    const otherSub = other.tokens.claims()?.sub;
    expect(otherSub).toMatch(/^[a-z2-7]+@springfield\.example\.org$/);
    expect(otherSub).not.toBe(expectedSub());
  });

  // mod_auth_openidc takes an error response that carries `iss` (RFC 9207)
  // for a third-party-initiated sign-in, so the patron sees its error page
  // (the vendor's OIDCHTMLErrorTemplate), not a loop back to the broker.
  it('shows the vendor’s error page, neither the protected page nor the broker, when the patron cancels', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${origin}/library/`);
      await page.getByRole('link', { name: 'Cancel and go back' }).click();
      await page.waitForURL(`${origin}/library/redirect_uri?error=access_denied**`);
      expect(await page.textContent('#vendor-error')).toContain('You did not sign in.');
      expect(await page.locator('#sub').count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('signs out through the broker with the guide’s logout link and asks again afterwards', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signIn(page);
      await page.goto(`${origin}/library/redirect_uri?logout=${encodeURIComponent(`${origin}/`)}`);
      // The broker asks the patron to confirm (RP-initiated logout).
      expect(page.url().startsWith(`${b.issuer}/session/end`)).toBe(true);
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.waitForURL(`${origin}/`);
      await page.goto(`${origin}/library/`);
      expect(page.url().startsWith(`${b.issuer}/interaction/`)).toBe(true);
    } finally {
      await context.close();
    }
  });
});
