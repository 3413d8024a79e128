// The button kit for vendors, /button: "Sign in with your library" as HTML
// and CSS or as an SVG image, light and dark, in the broker's language,
// with snippets to copy. For a broker with several libraries the page can
// make the snippets name one (`library=`) or leave it to the chooser. Every
// asset is built once, at start-up, from the theme table in button-style.ts.
import Router from '@koa/router';
import type { Context } from 'koa';
import { CHOOSER_PAGE, chooserView } from '../libraries/chooser.ts';
import type { Listable } from '../libraries/route.ts';
import type { Views } from '../views.ts';
import { buttonCss, buttonSvg, CLASS, iconSvg, type Theme } from './button-style.ts';
import { PAGE_CSS, servePageCss } from './page-css.ts';
import { buttonSnippets } from './snippets.ts';

export interface ButtonDeps {
  issuer: string;
  libraries: readonly Listable[];
  views: Views;
}

// Assets change only with a release; the page with the configuration.
const ASSET_CACHE = 'public, max-age=86400';
const PAGE_CACHE = 'public, max-age=300';

export function buttonRoutes(deps: ButtonDeps): Router {
  const { issuer, libraries, views } = deps;
  const router = new Router();
  const css = buttonCss();
  // The label is in the language of the page (views.ts negotiates it), so
  // each language's images are built once, when first asked for.
  const svgs = new Map<string, string>();
  const svg = (ctx: Context, theme: Theme) => {
    const key = `${views.locale(ctx)}/${theme}`;
    let body = svgs.get(key);
    if (!body) {
      body = buttonSvg(theme, views.t(ctx, 'button.label'));
      svgs.set(key, body);
    }
    return body;
  };

  const asset = (type: string, body: (ctx: Context) => string) => (ctx: Context) => {
    ctx.type = type;
    ctx.set('Cache-Control', ASSET_CACHE);
    ctx.vary('Accept-Language');
    ctx.vary('Cookie');
    // An SVG opened on its own is a document: this one needs nothing.
    if (type === 'image/svg+xml') ctx.set('Content-Security-Policy', "default-src 'none'");
    ctx.body = body(ctx);
  };
  router.get(
    '/button/button.css',
    asset('text/css', () => css),
  );
  for (const theme of ['light', 'dark'] as const) {
    router.get(
      `/button/library-${theme}.svg`,
      asset('image/svg+xml', (ctx) => svg(ctx, theme)),
    );
  }
  servePageCss(router);

  router.get('/button', (ctx) => {
    const asked = typeof ctx.query.library === 'string' ? ctx.query.library : '';
    // An unknown id is not echoed: the snippets leave the choice to the patron.
    const library = libraries.find((l) => l.id === asked);
    // A consortium's thousand libraries are searched and paged, as on the
    // patron's chooser, rather than put in one select of a thousand options.
    const query = typeof ctx.query.q === 'string' ? ctx.query.q.slice(0, 100) : '';
    const long = libraries.length > CHOOSER_PAGE;
    const view = long
      ? chooserView(libraries, { query, page: Number(ctx.query.page) || 1, searchFirst: true })
      : undefined;
    const pageLink = (page: number) => `/button?${new URLSearchParams({ q: query, page: String(page) })}`;
    const label = views.t(ctx, 'button.label');
    ctx.type = 'html';
    ctx.set('Cache-Control', PAGE_CACHE);
    ctx.vary('Accept-Language');
    ctx.vary('Cookie');
    ctx.body = views.render(ctx, 'button', {
      wide: true,
      title: views.t(ctx, 'button.title'),
      label,
      buttonClass: CLASS,
      icon: iconSvg(),
      pageCss: PAGE_CSS,
      libraries: long ? [] : libraries,
      search: view && {
        query,
        total: view.total,
        groups: view.groups.map((g) => ({
          system: g.system,
          libraries: g.libraries.map((l) => ({
            name: l.name,
            href: `/button?library=${encodeURIComponent(l.id)}#html`,
          })),
        })),
        previous: view.page > 1 ? pageLink(view.page - 1) : undefined,
        next: view.page < view.pages ? pageLink(view.page + 1) : undefined,
      },
      library,
      snippets: buttonSnippets({ issuer, label, library }),
    });
  });

  return router;
}
