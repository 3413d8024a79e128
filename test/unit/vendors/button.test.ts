// The button kit at /button: the page, the stylesheet and the SVGs, served
// by the real router behind the broker's security headers.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AA, contrastRatio } from '../../../src/config/contrast.ts';
import type { Listable } from '../../../src/libraries/route.ts';
import { securityHeaders } from '../../../src/security/headers.ts';
import { buttonRoutes } from '../../../src/vendors/button.ts';
import { THEMES } from '../../../src/vendors/button-style.ts';
import { createViews } from '../../../src/views.ts';

const ISSUER = 'https://signin.library.example';
const LABEL = 'Sign in with your library';

async function serve(libraries: Listable[]): Promise<{ url: string; server: Server }> {
  const app = new Koa();
  app.use(securityHeaders());
  const router = buttonRoutes({ issuer: ISSUER, libraries, views: createViews() });
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

// What a screen reader announces for a link: its text, without the parts
// hidden from assistive technology.
function accessibleName(html: string): string {
  return html
    .replace(/<svg[^>]*aria-hidden="true"[^>]*>[\s\S]*?<\/svg>/g, '')
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

const fromHtml = (html: string) =>
  html
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');
const snippets = (page: string) =>
  [...page.matchAll(/<pre tabindex="0" dir="ltr"><code>([\s\S]*?)<\/code><\/pre>/g)].map((m) => m[1] ?? '');

describe('button kit', () => {
  let many: { url: string; server: Server };
  let one: { url: string; server: Server };
  beforeAll(async () => {
    many = await serve([
      { id: 'springfield', name: 'Springfield Public Library', realm: {} },
      { id: 'shelbyville', name: 'Shelbyville <b>Library</b> & "Annex"', realm: {} },
    ]);
    one = await serve([{ id: 'springfield', name: 'Springfield Public Library', realm: {} }]);
  });
  afterAll(() => {
    many.server.close();
    one.server.close();
  });

  it('previews the button as a link named by its words, the icon hidden, and the images with alt text', async () => {
    const response = await fetch(`${many.url}/button`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const page = await response.text();
    const links = [...page.matchAll(/<a class="library-signin[^"]*"[^>]*>([\s\S]*?)<\/a>/g)];
    expect(links).toHaveLength(2);
    for (const [, inner] of links) {
      expect(inner).toContain('<svg aria-hidden="true" focusable="false"');
      expect(accessibleName(inner ?? '')).toBe(LABEL);
    }
    const images = [...page.matchAll(/<img src="\/button\/library-(light|dark)\.svg" alt="([^"]*)">/g)];
    expect(images.map((m) => [m[1], m[2]])).toEqual([
      ['light', LABEL],
      ['dark', LABEL],
    ]);
    // The pasted snippets name the button the same way.
    const [html, , svg] = snippets(page).map(fromHtml);
    expect(accessibleName(/<a class="library-signin" href="\/login">([\s\S]*?)<\/a>/.exec(html ?? '')?.[1] ?? '')).toBe(
      LABEL,
    );
    expect(svg).toContain(`alt="${LABEL}"`);
  });

  it('has colours with at least 4.5:1 contrast for the words, and 3:1 against the page, in both themes', () => {
    for (const [theme, c] of Object.entries(THEMES)) {
      expect(contrastRatio(c.text, c.background), `${theme} text`).toBeGreaterThanOrEqual(AA);
      expect(contrastRatio(c.text, c.hover), `${theme} text on hover`).toBeGreaterThanOrEqual(AA);
      expect(contrastRatio(c.background, c.page), `${theme} button on its page`).toBeGreaterThanOrEqual(3);
    }
  });

  it('serves the stylesheet and the SVGs in exactly those colours', async () => {
    const css = await fetch(`${many.url}/button/button.css`);
    expect(css.headers.get('content-type')).toContain('text/css');
    const text = await css.text();
    const rule = (selector: string) => new RegExp(`${selector.replaceAll('.', '\\.')} \\{([^}]*)\\}`).exec(text)?.[1];
    expect(rule('.library-signin')).toContain(`background: ${THEMES.light.background};`);
    expect(rule('.library-signin')).toContain(`color: ${THEMES.light.text};`);
    expect(rule('.library-signin:hover')).toContain(THEMES.light.hover);
    expect(rule('.library-signin.library-signin-dark')).toBe(
      ` background: ${THEMES.dark.background}; color: ${THEMES.dark.text}; `,
    );
    expect(rule('.library-signin.library-signin-dark:hover')).toContain(THEMES.dark.hover);

    for (const theme of ['light', 'dark'] as const) {
      const response = await fetch(`${many.url}/button/library-${theme}.svg`);
      expect(response.headers.get('content-type')).toContain('image/svg+xml');
      expect(response.headers.get('content-security-policy')).toBe("default-src 'none'");
      const svg = await response.text();
      expect(svg).toContain(`<title>${LABEL}</title>`);
      expect(svg).toContain(`role="img" aria-label="${LABEL}"`);
      const fills = [...svg.matchAll(/fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
      expect(fills).toEqual([THEMES[theme].background, THEMES[theme].text, THEMES[theme].text]);
      expect(svg).not.toMatch(/<script|<style|href=/);
    }
  });

  it('gives snippets with the issuer, and the chooser unless a library is named', async () => {
    const page = await (await fetch(`${many.url}/button`)).text();
    const all = snippets(page).map(fromHtml).join('\n');
    expect(all).toContain(`${ISSUER}/.well-known/openid-configuration`);
    expect(all).toContain(`${ISSUER}/auth`);
    expect(all).not.toContain('library=');
    expect(page).toContain('the patron’s card number or the list of libraries decides');
  });

  it('names the library in the snippets with ?library=', async () => {
    const page = await (await fetch(`${many.url}/button?library=springfield`)).text();
    const request = fromHtml(snippets(page)[3] ?? '');
    expect(request).toContain(`${ISSUER}/.well-known/openid-configuration`);
    expect(request).toContain('\nlibrary=springfield\n');
    expect(request).toContain("library: 'springfield',");
    expect(request).toContain('OIDCAuthRequestParams library=springfield');
    expect(page).toContain('<option value="springfield" selected>');
    expect(page).toContain('These snippets send patrons straight to Springfield Public Library.');
  });

  it('ignores an unknown library and never echoes it', async () => {
    const page = await (await fetch(`${many.url}/button?library=${encodeURIComponent('<script>x</script>')}`)).text();
    expect(page).not.toContain('<script');
    expect(page).not.toContain('x</script>');
    expect(fromHtml(snippets(page).join('\n'))).not.toContain('library=');
  });

  it('escapes library names and snippets, and loads nothing from another origin', async () => {
    const page = await (await fetch(`${many.url}/button?library=shelbyville`)).text();
    expect(page).toContain('Shelbyville &lt;b&gt;Library&lt;/b&gt; &amp; &quot;Annex&quot;');
    expect(page).not.toContain('<b>Library</b>');
    expect(page).toContain('&lt;a class=&quot;library-signin&quot; href=&quot;/login&quot;&gt;');
    expect(page).not.toMatch(/ style=|<style|<script/);
    for (const [, url] of page.matchAll(/(?:href|src)="([^"]*)"/g)) expect(url).toMatch(/^(\/[^/]|#|data:,$)/);
  });

  it('offers no library choice on a broker with one library', async () => {
    const page = await (await fetch(`${one.url}/button`)).text();
    expect(page).not.toContain('<select');
    expect(page).toContain(LABEL);
  });
});

describe('button kit for a consortium', () => {
  let big: { url: string; server: Server };
  beforeAll(async () => {
    const libraries = Array.from({ length: 1000 }, (_, i) => ({
      id: `lib${i}`,
      name: `Branch ${String(i).padStart(4, '0')}`,
      town: `Town ${i}`,
      realm: { name: i < 20 ? 'Boone County Libraries' : `System ${Math.floor(i / 20)}` },
    }));
    big = await serve(libraries);
  });
  afterAll(() => big.server.close());

  it('offers a search instead of a list of 1,000 options, and finds a system’s branches', async () => {
    const page = await (await fetch(`${big.url}/button`)).text();
    expect(page).not.toContain('<select');
    expect(page).toContain('name="q"');
    expect(page.length).toBeLessThan(30_000);
    const found = await (await fetch(`${big.url}/button?q=boone`)).text();
    expect([...found.matchAll(/href="\/button\?library=lib\d+#html"/g)]).toHaveLength(20);
    expect(found).toContain('<h3 class="system">Boone County Libraries</h3>');
    const chosen = await (await fetch(`${big.url}/button?library=lib7`)).text();
    expect(fromHtml(snippets(chosen).join('\n'))).toContain('library=lib7');
  });
});
