// /developers: the vendor guide rendered once, with this broker's discovery URL.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatronymError } from '../../../src/errors.ts';
import { securityHeaders } from '../../../src/security/headers.ts';
import { developersRoutes } from '../../../src/vendors/developers.ts';
import { createViews } from '../../../src/views.ts';

const ISSUER = 'https://signin.springfield.example';

async function serve(guidePath?: string): Promise<{ url: string; server: Server }> {
  const app = new Koa();
  app.use(securityHeaders());
  const router = developersRoutes({ issuer: ISSUER, views: createViews(), ...(guidePath ? { guidePath } : {}) });
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('/developers', () => {
  let s: { url: string; server: Server };
  let dir: string;
  beforeAll(async () => {
    s = await serve();
    dir = mkdtempSync(join(tmpdir(), 'patronym-guide-'));
  });
  afterAll(() => {
    s.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the guide under its own title, with this broker’s discovery URL, and the examples escaped', async () => {
    const response = await fetch(`${s.url}/developers`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await response.text();
    const main = page.slice(page.indexOf('<main'));
    // The guide's title is the page's first heading.
    expect(/<h\d[^>]*>([^<]*)</.exec(main)?.[1]).toBe('Sign in with your library: a guide for vendors');
    expect(page).toContain(`<code dir="ltr" class="url">${ISSUER}/.well-known/openid-configuration</code>`);
    expect(page).toContain('<a href="/button">');
    // An apostrophe in element content needs no escaping (markdown-it leaves it).
    expect(page).toContain(`<pre tabindex="0"><code class="language-js">import { randomBytes } from 'node:crypto';`);
    expect(page).toContain('<pre tabindex="0"><code class="language-apache">OIDCProviderMetadataURL');
    expect(page).toContain('&lt;a href=&quot;/login&quot;&gt;Sign in with your library&lt;/a&gt;');
    expect(page).not.toMatch(/<script| style=|<style/);
  });

  it('renders a guide once, at start-up, escaping what it holds', async () => {
    const path = join(dir, 'guide.md');
    writeFileSync(path, '# Guide <b>for</b> vendors\n\nText with <script>alert(1)</script>.\n');
    const custom = await serve(path);
    try {
      writeFileSync(path, '# Changed\n');
      const page = await (await fetch(`${custom.url}/developers`)).text();
      expect(page).toContain('<h1 id="guide-bforb-vendors">Guide &lt;b&gt;for&lt;/b&gt; vendors</h1>');
      expect(page).toContain('Text with &lt;script&gt;alert(1)&lt;/script&gt;.');
      expect(page).not.toContain('Changed');
    } finally {
      custom.server.close();
    }
  });

  it('refuses to start without its guide, saying which file', () => {
    const missing = join(dir, 'missing.md');
    expect(() => developersRoutes({ issuer: ISSUER, views: createViews(), guidePath: missing })).toThrow(PatronymError);
    expect(() => developersRoutes({ issuer: ISSUER, views: createViews(), guidePath: missing })).toThrow(missing);
  });
});
