// src/views.ts: each request renders in its own language, also when many
// are in flight at once and a route learns the language only after an
// await; the switcher links stay on this origin; plurals and dates follow
// the language.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createViews, sendPage } from '../../../src/views.ts';

const views = createViews({
  libraries: [
    { id: 'a', name: 'A', language: 'fr', messages: { fr: { 'login.card': 'Numéro d’abonné·e' } } },
    { id: 'b', name: 'B' },
  ],
});
let server: Server;
let url: string;

beforeAll(async () => {
  const app = new Koa();
  app.use(views.middleware());
  app.use(async (ctx) => {
    // The route learns its library and the vendor's ui_locales late, after
    // awaits that interleave with every other request's.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    views.hint(ctx, {
      uiLocales: ctx.query.ui_locales,
      library:
        ctx.query.library === 'a'
          ? { id: 'a', name: 'A', language: 'fr', messages: { fr: { 'login.card': 'Numéro d’abonné·e' } } }
          : undefined,
    });
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    sendPage(ctx, views, 'error', {
      title: views.t(ctx, 'login.card'),
      message: views.t(ctx, 'chooser.count', { count: '3' }),
    });
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server?.close());

const langOf = (html: string) => /<html lang="([^"]+)" dir="([^"]+)">/.exec(html)?.slice(1);
const h1Of = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];

describe('views', () => {
  it('keeps 200 concurrent requests each in its own language', async () => {
    const cases = [
      { query: '', accept: 'es', lang: ['es', 'ltr'], h1: 'Número de carné de biblioteca' },
      { query: '?ui_locales=ar', accept: 'es', lang: ['ar', 'rtl'], h1: 'رقم بطاقة المكتبة' },
      { query: '?library=a', accept: 'de', lang: ['fr', 'ltr'], h1: 'Numéro d’abonné·e' },
      { query: '?library=a', accept: 'zh-CN', lang: ['zh-Hans', 'ltr'], h1: '借书证号' },
      { query: '', accept: 'de', lang: ['en', 'ltr'], h1: 'Library card number' },
    ];
    const runs = Array.from({ length: 200 }, (_, i) => cases[i % cases.length] as (typeof cases)[number]);
    const pages = await Promise.all(
      runs.map(async (c) => (await fetch(`${url}/x${c.query}`, { headers: { 'accept-language': c.accept } })).text()),
    );
    pages.forEach((html, i) => {
      const c = runs[i] as (typeof cases)[number];
      expect(langOf(html), `${i} ${c.query} ${c.accept}`).toEqual(c.lang);
      expect(h1Of(html), `${i}`).toBe(c.h1);
    });
  });

  it('switches language by a link that keeps the page, and remembers it in a cookie', async () => {
    const response = await fetch(`${url}/interaction/abc?library=a&lang=ar`, { headers: { 'accept-language': 'es' } });
    const html = await response.text();
    expect(langOf(html)).toEqual(['ar', 'rtl']);
    expect(response.headers.get('set-cookie')).toMatch(
      /^patronym_lang=ar; path=\/; expires=[^;]+; samesite=lax; httponly$/,
    );
    expect(html).toContain('href="/interaction/abc?library=a&amp;lang=es"');
    const again = await fetch(`${url}/elsewhere`, { headers: { cookie: 'patronym_lang=ar', 'accept-language': 'es' } });
    expect(langOf(await again.text())).toEqual(['ar', 'rtl']);
    // A value we do not speak changes nothing and sets nothing.
    const unknown = await fetch(`${url}/x?lang=de`, { headers: { 'accept-language': 'fr' } });
    expect(langOf(await unknown.text())).toEqual(['fr', 'ltr']);
    expect(unknown.headers.get('set-cookie')).toBeNull();
  });

  it('never points the switcher at another origin', async () => {
    for (const path of ['//evil.example/x', '/\\evil.example/x']) {
      const html = await (await fetch(`${url}${path}`)).text();
      const links = [...html.matchAll(/hreflang="[^"]+"[^>]*>|href="([^"]*)" lang=/g)].map((m) => m[1]).filter(Boolean);
      expect(links.length, path).toBe(5);
      for (const href of links) expect(href, path).toMatch(/^\/\?lang=/);
    }
  });

  it('formats plurals from numbers given as text, and calendar days without shifting them', () => {
    // Outside a request (no sources noted for this object): English.
    const none = {};
    expect(views.t(none, 'chooser.count', { count: '1' })).toBe('1 library');
    expect(views.t(none, 'chooser.count', { count: 1000 })).toBe('1,000 libraries');
    expect(views.date(none, '2026-03-01')).toBe('March 1, 2026');
  });
});
