// The vendor guide's Node.js example (docs/vendors.md), run as written: the
// code block is written to a file and started with node against a real
// broker, configured only through the environment variables the guide
// names. A patron signs in through it the way a browser would; what the
// vendor shows must be the pairwise pseudonym and nothing identifying.
// Also run as written: the guide's back-channel logout snippet. And the
// guide and the button kit as pages, in headless Chromium under the CSP.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import Koa from 'koa';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePatronFile } from '../../src/auth/file/patron-file.ts';
import { hashPin } from '../../src/auth/file/pin-hash.ts';
import { deriveAccountId, derivePseudonym } from '../../src/pseudonym/derive.ts';
import { securityHeaders } from '../../src/security/headers.ts';
import { buttonRoutes } from '../../src/vendors/button.ts';
import { THEMES } from '../../src/vendors/button-style.ts';
import { developersRoutes } from '../../src/vendors/developers.ts';
import { codeBlocks } from '../../src/vendors/markdown.ts';
import { createViews, VIEWS_DIR } from '../../src/views.ts';
import { freePort } from '../support/apache.ts';
import { browserFetch, CookieJar, follow, formField } from '../support/broker.ts';
import { browserAvailable, launchBrowser } from '../support/browser.ts';
import { TEST_PEPPER, TEST_PEPPER_HEX } from '../support/patrons.ts';
import { useBroker } from '../support/use-broker.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const guide = readFileSync(join(ROOT, 'docs', 'vendors.md'), 'utf8');
const example = codeBlocks(guide).find((b) => b.info === 'js vendor.mjs')?.code ?? '';
const backchannelExample = codeBlocks(guide).find((b) => b.info === 'js backchannel-logout.mjs')?.code ?? '';

// A folder for the guide's code, which imports its packages as a vendor's
// project would.
function exampleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'patronym-vendor-'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

// Patrons whose library systems know names, emails and birth dates: none of
// it may reach the vendor.
const MARGE = {
  card: '21234000000077',
  pin: '7777',
  id: 'spring-0077',
  attributes: { displayName: ['Marge Bouvier'], mail: ['marge@bouvier.example'], birthDate: ['1956-03-19'] },
};
const PATTY = {
  card: '31234000000011',
  pin: '1111',
  id: 'shelby-0011',
  attributes: { displayName: ['Patty Bouvier'], mail: ['patty@bouvier.example'], birthDate: ['1948-10-29'] },
};
const PII = (p: typeof MARGE) => [p.card, p.pin, p.id, ...Object.values(p.attributes).flat(), 'Bouvier'];

// The vendors the sysadmin registered, each with the example's environment.
const VENDORS = {
  'guide-vendor': { env: {}, release: [] },
  'guide-vendor-library': { env: { SCOPE: 'openid library' }, release: ['library'] },
  'guide-vendor-shelbyville': { env: { LIBRARY: 'shelbyville' }, release: [] },
} as const;

interface RunningVendor {
  origin: string;
  output: () => string;
  stop(): Promise<void>;
}

describe('the vendor guide’s Node.js example, run as written', () => {
  let dir: string;
  const vendors: RunningVendor[] = [];
  const ports: Partial<Record<keyof typeof VENDORS, { port: number; env: Record<string, string> }>> = {};

  async function patronFile(path: string, patron: typeof MARGE): Promise<void> {
    const pin = await hashPin(TEST_PEPPER, patron.pin, { ln: 10, r: 8, p: 1 });
    writePatronFile(path, [{ ...patron, pin, status: 'active' }]);
  }

  beforeAll(async () => {
    expect(example).toContain("from 'openid-client'");
    dir = exampleDir();
    writeFileSync(join(dir, 'vendor.mjs'), example);
  });
  const b = useBroker(async ({ dir: brokerDir }) => {
    await patronFile(join(brokerDir, 'springfield.yaml'), MARGE);
    await patronFile(join(brokerDir, 'shelbyville.yaml'), PATTY);
    return {
      config: {
        keys: { dir: join(brokerDir, 'keys'), pinPepper: TEST_PEPPER_HEX },
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
            authenticators: [{ id: 'springfield-file', kind: 'file', path: join(brokerDir, 'springfield.yaml') }],
          },
          {
            id: 'shelbyville',
            name: 'Shelbyville Public Library',
            realm: 'shelbyville',
            cardPatterns: ['31234'],
            authenticators: [{ id: 'shelbyville-file', kind: 'file', path: join(brokerDir, 'shelbyville.yaml') }],
          },
        ],
        clients: await Promise.all(
          Object.entries(VENDORS).map(async ([name, { env, release }]) => {
            const port = await freePort();
            ports[name as keyof typeof VENDORS] = { port, env };
            return {
              client_id: name,
              client_name: `Vendor ${name}`,
              client_secret: `${name}-secret-0123456789`,
              redirect_uris: [`http://127.0.0.1:${port}/callback`],
              post_logout_redirect_uris: [`http://127.0.0.1:${port}/`],
              release: [...release],
            };
          }),
        ),
      },
    };
  });

  afterAll(async () => {
    await Promise.all(vendors.map((v) => v.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function startVendor(name: keyof typeof VENDORS): Promise<RunningVendor> {
    const { port, env } = ports[name] as { port: number; env: Record<string, string> };
    const origin = `http://127.0.0.1:${port}`;
    let output = '';
    const child: ChildProcess = spawn(process.execPath, [join(dir, 'vendor.mjs')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        ISSUER: b.issuer,
        CLIENT_ID: name,
        CLIENT_SECRET: `${name}-secret-0123456789`,
        REDIRECT_URI: `${origin}/callback`,
        PORT: String(port),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`vendor.mjs did not start:\n${output}`)), 15_000);
      const collect = (chunk: Buffer) => {
        output += String(chunk);
        if (output.includes('vendor listening')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      void exited.then(() => reject(new Error(`vendor.mjs exited:\n${output}`)));
    });
    const running = {
      origin,
      output: () => output,
      async stop() {
        child.kill('SIGTERM');
        await exited;
      },
    };
    vendors.push(running);
    return running;
  }

  // Click "Sign in with your library" at the vendor: arrives on the broker's page.
  async function startAt(v: RunningVendor, jar: CookieJar) {
    const home = await browserFetch(jar, `${v.origin}/`);
    expect(await home.text()).toContain('<a href="/login">Sign in with your library</a>');
    const login = await browserFetch(jar, `${v.origin}/login`);
    expect(login.status).toBe(303);
    return follow(jar, b.issuer, login.headers.get('location') ?? '');
  }

  async function signIn(page: { body: string }, jar: CookieJar, patron: typeof MARGE) {
    const action = /action="([^"]+)"/.exec(page.body)?.[1] ?? '';
    expect(action).toContain('/login');
    return follow(jar, b.issuer, new URL(action, b.issuer).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: formField(page.body, 'csrf') ?? '', card: patron.card, pin: patron.pin }),
    });
  }

  // Back at the vendor's callback: it redeems the code and shows its page.
  async function backAtVendor(v: RunningVendor, jar: CookieJar, callback: string | undefined) {
    expect(callback?.startsWith(`${v.origin}/callback?`)).toBe(true);
    const response = await browserFetch(jar, callback ?? '');
    if (response.status !== 303) return { status: response.status, body: await response.text() };
    const home = await browserFetch(jar, new URL(response.headers.get('location') ?? '', v.origin).href);
    return { status: home.status, body: await home.text() };
  }

  // The JSON the example prints in <pre id="…">, unescaped.
  const shownJson = (body: string, id: string) =>
    JSON.parse(
      (new RegExp(`<pre id="${id}">([^<]*)</pre>`).exec(body)?.[1] ?? '{}').replace(/&#(\d+);/g, (_, n: string) =>
        String.fromCharCode(Number(n)),
      ),
    ) as Record<string, unknown>;
  const sub = (body: string) => /<code id="sub">([^<]*)<\/code>/.exec(body)?.[1];
  const pseudonym = (realm: string, stableId: string, sector = '127.0.0.1') =>
    derivePseudonym(b.keys.pairwiseKey, {
      sector,
      accountId: deriveAccountId(b.keys.accountKey, realm, stableId),
      generation: 0,
      scope: `${realm}.example.org`,
    });

  it('signs a patron in, shows the pairwise pseudonym and nothing that identifies them, and signs out', async () => {
    const v = await startVendor('guide-vendor');
    const jar = new CookieJar();
    const page = await startAt(v, jar);
    expect(page.body).toContain('name="card"');
    const done = await signIn(page, jar, MARGE);
    const shown = await backAtVendor(v, jar, done.leftFor);
    expect(shown.status).toBe(200);
    expect(sub(shown.body)).toBe(pseudonym('springfield', MARGE.id));
    expect(sub(shown.body)).not.toBe(pseudonym('springfield', MARGE.id, 'localhost'));
    const claims = shownJson(shown.body, 'claims');
    expect(Object.keys(claims).sort()).toEqual(expect.arrayContaining(['aud', 'exp', 'iat', 'iss', 'nonce', 'sub']));
    for (const claim of Object.keys(claims)) {
      expect(['at_hash', 'aud', 'auth_time', 'exp', 'iat', 'iss', 'nonce', 'sid', 'sub'], claim).toContain(claim);
    }
    expect(shownJson(shown.body, 'userinfo')).toEqual({ sub: sub(shown.body) });
    for (const value of PII(MARGE)) expect(shown.body + v.output()).not.toContain(value);

    // Sign out: the broker confirms, ends its session, returns to the vendor.
    const logout = await browserFetch(jar, `${v.origin}/logout`);
    const confirm = await follow(jar, b.issuer, logout.headers.get('location') ?? '');
    expect(confirm.body).toContain('Do you want to sign out');
    const action = /action="([^"]+)"/.exec(confirm.body)?.[1] ?? '';
    const out = await follow(jar, b.issuer, new URL(action, b.issuer).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf: formField(confirm.body, 'xsrf') ?? '', logout: 'yes' }),
    });
    expect(out.leftFor).toBe(`${v.origin}/`);
    const home = await browserFetch(jar, `${v.origin}/`);
    expect(await home.text()).toContain('Sign in with your library');
    // The broker session is gone too: the next sign-in asks for the card.
    expect((await startAt(v, jar)).body).toContain('name="card"');
  });

  it('handles access_denied: a patron who cancels, or does not allow, sees the button again', async () => {
    const v = await startVendor('guide-vendor-library');
    const jar = new CookieJar();
    const page = await startAt(v, jar);
    const abort = /href="([^"]*\/abort)"/.exec(page.body)?.[1] ?? '';
    const cancelled = await follow(jar, b.issuer, new URL(abort, b.issuer).href);
    expect(new URL(cancelled.leftFor ?? '').searchParams.get('error')).toBe('access_denied');
    const shownCancelled = await backAtVendor(v, jar, cancelled.leftFor);
    expect(shownCancelled.body).toContain('You did not sign in');
    expect(shownCancelled.body).toContain('Sign in with your library');

    // Signed in, then "Don't allow" on the consent page.
    const consent = await signIn(await startAt(v, jar), jar, MARGE);
    expect(consent.body).toContain('the name of your library: Springfield Public Library');
    const decide = async (decision: 'allow' | 'deny', form: { body: string }) =>
      follow(jar, b.issuer, new URL(/action="([^"]+)"/.exec(form.body)?.[1] ?? '', b.issuer).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: formField(form.body, 'csrf') ?? '', decision }),
      });
    const denied = await decide('deny', consent);
    const shownDenied = await backAtVendor(v, jar, denied.leftFor);
    expect(shownDenied.status).toBe(200);
    expect(shownDenied.body).toContain('You did not sign in');

    // Asked again (the broker session remains): "Allow" releases the library.
    const again = await startAt(v, jar);
    expect(again.body).toContain('Springfield Public Library');
    const shown = await backAtVendor(v, jar, (await decide('allow', again)).leftFor);
    expect(shown.body).toContain('<span id="library">Springfield Public Library</span>');
    expect(shownJson(shown.body, 'userinfo')).toEqual({
      sub: sub(shown.body),
      library: { id: 'springfield', name: 'Springfield Public Library', domain: 'springfield.example.org' },
    });
    expect(sub(shown.body)).toBe(pseudonym('springfield', MARGE.id));
    for (const value of PII(MARGE)) expect(shown.body).not.toContain(value);
  });

  it('names the patron’s library with LIBRARY, straight to that library’s sign-in page', async () => {
    const v = await startVendor('guide-vendor-shelbyville');
    const jar = new CookieJar();
    const page = await startAt(v, jar);
    expect(page.body).toContain('Shelbyville Public Library');
    expect(page.body).not.toContain('Springfield Public Library');
    const shown = await backAtVendor(v, jar, (await signIn(page, jar, PATTY)).leftFor);
    expect(sub(shown.body)).toBe(pseudonym('shelbyville', PATTY.id));
    for (const value of PII(PATTY)) expect(shown.body).not.toContain(value);
  });
});

// The guide's back-channel logout snippet, run as written against logout
// tokens signed here and a JWKS served here, as the broker will send them
// (OpenID Connect Back-Channel Logout 1.0, section 2.4).
describe('the guide’s back-channel logout snippet, run as written', () => {
  const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
  let dir: string;
  let jwks: Server;
  let issuer: string;
  let sign: (claims: JWTPayload, audience?: string) => Promise<string>;
  let backchannelLogout: (body: { logout_token: string }) => Promise<{ sub?: string; sid?: string }>;

  beforeAll(async () => {
    expect(backchannelExample).toContain('export async function backchannelLogout');
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const key = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [key] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
    sign = (claims, audience = 'your-client-id') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'logout+jwt' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('2m')
        .setJti(randomUUID())
        .sign(privateKey);
    dir = exampleDir();
    const file = join(dir, 'backchannel-logout.mjs');
    writeFileSync(file, backchannelExample.replaceAll('https://signin.library.example', issuer));
    ({ backchannelLogout } = await import(pathToFileURL(file).href));
  });

  afterAll(() => {
    jwks?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a logout token for this vendor and gives the pseudonym and session to end', async () => {
    const sub = 'k5q3x7dkw2p6m4hzqexample7vma@springfield.example.org';
    const token = await sign({ sub, sid: 'session-1', events: { [EVENT]: {} } });
    expect(await backchannelLogout({ logout_token: token })).toEqual({ sub, sid: 'session-1' });
  });

  it('refuses a token with a nonce, without the event, without sub or sid, or for another vendor', async () => {
    const events = { [EVENT]: {} };
    const bad = [
      await sign({ sub: 'a@b.example', events, nonce: 'n' }),
      await sign({ sub: 'a@b.example' }),
      await sign({ sub: 'a@b.example', events: { [EVENT]: 'yes' } }),
      await sign({ events }),
      await sign({ sub: 'a@b.example', events }, 'another-vendor'),
    ];
    for (const token of bad) await expect(backchannelLogout({ logout_token: token })).rejects.toThrow();
  });
});

// The button kit and the guide as a vendor's developer sees them: the
// routers behind the broker's own security headers, in headless Chromium.
describe.runIf(browserAvailable())('the button kit and the guide in headless Chromium', () => {
  let server: Server;
  let origin: string;
  let browser: Browser;

  beforeAll(async () => {
    const views = createViews();
    const app = new Koa();
    app.use(securityHeaders());
    const css = readFileSync(join(VIEWS_DIR, 'static', 'patronym.css'));
    app.use(async (ctx, next) => {
      if (ctx.path !== '/static/patronym.css') return next();
      ctx.type = 'text/css';
      ctx.body = css;
    });
    const libraries = [
      { id: 'springfield', name: 'Springfield Public Library', realm: {} },
      { id: 'shelbyville', name: 'Shelbyville Public Library', realm: {} },
    ];
    for (const router of [
      buttonRoutes({ issuer: 'https://signin.library.example', libraries, views }),
      developersRoutes({ issuer: 'https://signin.library.example', views }),
    ]) {
      app.use(router.routes());
    }
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;

  it('shows the button in its colours, named by its words, under the strict CSP, without JavaScript', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('requestfailed', (r) => problems.push(r.url()));
    try {
      const response = await page.goto(`${origin}/button`);
      expect(response?.headers()['content-security-policy']).toContain("style-src 'self'");
      const buttons = page.getByRole('link', { name: 'Sign in with your library', exact: true });
      expect(await buttons.count()).toBe(2);
      // The colours as drawn. (The project's types have no DOM library.)
      type Styles = { getComputedStyle(e: unknown): { backgroundColor: string; color: string } };
      const colours = await buttons.evaluateAll((links) =>
        links.map((a) => {
          const style = (globalThis as unknown as Styles).getComputedStyle(a);
          return [style.backgroundColor, style.color];
        }),
      );
      expect(colours).toEqual([
        [rgb(THEMES.light.background), rgb(THEMES.light.text)],
        [rgb(THEMES.dark.background), rgb(THEMES.dark.text)],
      ]);
      const images = page.getByRole('img', { name: 'Sign in with your library', exact: true });
      expect(await images.count()).toBe(2);
      // Both SVGs load and draw (a broken image has no natural width).
      const widths = await images.evaluateAll((imgs) =>
        imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth),
      );
      expect(widths).toHaveLength(2);
      for (const width of widths) expect(width).toBeGreaterThan(200);

      // Name a library: a plain GET form, no script.
      await page.getByLabel('Library').selectOption('shelbyville');
      await page.getByRole('button', { name: 'Show the snippets' }).click();
      await page.waitForURL(`${origin}/button?library=shelbyville`);
      expect(await page.locator('#request + p + pre').textContent()).toContain('library=shelbyville');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the guide at /developers under the strict CSP', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    try {
      await page.goto(`${origin}/developers`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(
        'Sign in with your library: a guide for vendors',
      );
      await page.getByRole('link', { name: 'Node.js' }).click();
      expect(page.url()).toBe(`${origin}/developers#nodejs-with-openid-client-6`);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
