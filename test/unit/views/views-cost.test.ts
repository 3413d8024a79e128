// src/views.ts on the sign-in path (issue 18): a page works out the
// request's language once, not once per sentence (the sign-in page asks
// some thirty times, and each negotiation parses Accept-Language), and a
// hint that arrives after a sentence was already looked up still changes
// the language of what follows.
import Koa, { type Context } from 'koa';
import { describe, expect, it, vi } from 'vitest';

const negotiations = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../../src/locale.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/locale.ts')>();
  return {
    ...original,
    negotiateLocale: (sources: Parameters<typeof original.negotiateLocale>[0]) => {
      negotiations.count++;
      return original.negotiateLocale(sources);
    },
  };
});

const { createViews, sendPage } = await import('../../../src/views.ts');

const french = { id: 'a', name: 'A', language: 'fr' as const };
const views = createViews({ libraries: [french, { id: 'b', name: 'B' }] });
const app = new Koa();

// One request through the views middleware, with `route` as its handler.
async function request(acceptLanguage: string, route: (ctx: Context) => void): Promise<Context> {
  const req = { headers: { 'accept-language': acceptLanguage }, url: '/interaction/x', method: 'GET', socket: {} };
  const res = { getHeader() {}, setHeader() {}, removeHeader() {}, headersSent: false, statusCode: 404 };
  const ctx = app.createContext(req as never, res as never);
  await views.middleware()(ctx, async () => route(ctx));
  return ctx;
}

const loginData = {
  action: '/interaction/x/login',
  abort: '/interaction/x/abort',
  csrf: 'token',
  errorCount: 0,
  cardInput: 'text',
  pinInput: 'password',
  vendor: 'Demo Vendor',
};

describe('views: the cost of a page', () => {
  it('negotiates the language once per request for a whole sign-in page', async () => {
    negotiations.count = 0;
    const ctx = await request('es-MX,es;q=0.9,en;q=0.5', (c) => {
      sendPage(c, views, 'login', { ...loginData, title: views.t(c, 'login.title') });
    });
    expect(String(ctx.body)).toContain('<html lang="es"');
    expect(negotiations.count).toBe(1);
  });

  it('works the language out again after a hint, also when a sentence came before it', async () => {
    negotiations.count = 0;
    const seen: string[] = [];
    await request('de', (c) => {
      seen.push(views.t(c, 'login.submit'), views.locale(c));
      views.hint(c, { library: french });
      seen.push(views.t(c, 'login.submit'), views.locale(c));
      views.hint(c, { uiLocales: 'es' });
      seen.push(views.t(c, 'login.submit'), views.locale(c));
    });
    expect(seen).toEqual(['Sign in', 'en', 'Se connecter', 'fr', 'Entrar', 'es']);
    expect(negotiations.count).toBe(3);
  });

  it('formats a sentence with arguments at every use, and one without the same each time', async () => {
    await request('en', (c) => {
      expect(views.t(c, 'chooser.count', { count: '1' })).toBe('1 library');
      expect(views.t(c, 'chooser.count', { count: '2' })).toBe('2 libraries');
      expect(views.t(c, 'login.submit')).toBe(views.t(c, 'login.submit'));
    });
  });
});

describe('views: no async context of its own', () => {
  // With an AsyncLocalStorage enabled, Node 22 runs a hook for every promise
  // the process makes, for each one: oidc-provider keeps one for its routes,
  // and a second one (the request's language, until issue 18's fifth round)
  // cost about 0.3 ms of CPU per sign-in. The language travels with the
  // request's context instead.
  it('no module of src/ opens an AsyncLocalStorage or an async hook', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = join(import.meta.dirname, '..', '..', '..', 'src');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(50);
    const using = files.filter((f) =>
      /new AsyncLocalStorage|createHook\(|from '(node:)?async_hooks'/.test(readFileSync(join(root, f), 'utf8')),
    );
    expect(using).toEqual([]);
  });
});
