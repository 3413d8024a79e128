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
      sendPage(c, views, 'login', { ...loginData, title: views.t('login.title') });
    });
    expect(String(ctx.body)).toContain('<html lang="es"');
    expect(negotiations.count).toBe(1);
  });

  it('works the language out again after a hint, also when a sentence came before it', async () => {
    negotiations.count = 0;
    const seen: string[] = [];
    await request('de', () => {
      seen.push(views.t('login.submit'), views.lang);
      views.hint({ library: french });
      seen.push(views.t('login.submit'), views.lang);
      views.hint({ uiLocales: 'es' });
      seen.push(views.t('login.submit'), views.lang);
    });
    expect(seen).toEqual(['Sign in', 'en', 'Se connecter', 'fr', 'Entrar', 'es']);
    expect(negotiations.count).toBe(3);
  });

  it('formats a sentence with arguments at every use, and one without the same each time', async () => {
    await request('en', () => {
      expect(views.t('chooser.count', { count: '1' })).toBe('1 library');
      expect(views.t('chooser.count', { count: '2' })).toBe('2 libraries');
      expect(views.t('login.submit')).toBe(views.t('login.submit'));
    });
  });
});
