// /developers: the vendor guide (docs/vendors.md), rendered once at
// start-up, with this broker's own discovery URL above it. Discovery
// advertises it as `service_documentation`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Router from '@koa/router';
import { PatronymError } from '../errors.ts';
import type { RequestContext, Views } from '../views.ts';
import { renderMarkdown } from './markdown.ts';
import { PAGE_CSS, servePageCss } from './page-css.ts';

export const GUIDE_PATH = join(import.meta.dirname, '..', '..', 'docs', 'vendors.md');

export interface DevelopersDeps {
  issuer: string;
  views: Views;
  // Another guide (tests); default docs/vendors.md.
  guidePath?: string;
}

export function developersRoutes(deps: DevelopersDeps): Router {
  const { issuer, views } = deps;
  const path = deps.guidePath ?? GUIDE_PATH;
  let markdown: string;
  try {
    markdown = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PatronymError('guide_missing', `developers: cannot read the vendor guide "${path}"`, { cause: error });
  }
  const html = renderMarkdown(markdown);
  // The guide's own title heads the page; this broker's facts follow it.
  const cut = html.startsWith('<h1') ? html.indexOf('</h1>') + '</h1>'.length : 0;
  // The guide is written in English; the page around it follows the
  // patron's language, and is rendered once per language and switcher link.
  const pages = new Map<string, string>();
  const page = (ctx: RequestContext, here: string) => {
    const key = `${views.locale(ctx)} ${here}`;
    let body = pages.get(key);
    if (body === undefined) {
      body = views.render(ctx, 'developers', {
        title: views.t(ctx, 'developers.title'),
        heading: html.slice(0, cut),
        guide: html.slice(cut),
        discovery: `${issuer}/.well-known/openid-configuration`,
        pageCss: PAGE_CSS,
        wide: true,
      });
      if (pages.size < 100) pages.set(key, body);
    }
    return body;
  };

  const router = new Router();
  router.get('/developers', (ctx) => {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.vary('Accept-Language');
    ctx.vary('Cookie');
    ctx.body = page(ctx, ctx.url);
  });
  servePageCss(router);
  return router;
}
