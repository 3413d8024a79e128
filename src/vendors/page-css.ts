// The stylesheet of the vendor pages (/button, /developers): wider than the
// patron pages, for code. Served from our origin like every asset (the CSP
// allows no inline styles). Each router registers it, so either can be
// mounted alone; when both are, the first answers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Router from '@koa/router';
import { VIEWS_DIR } from '../views.ts';

export const PAGE_CSS = '/static/vendors.css';

export function servePageCss(router: Router): void {
  const css = readFileSync(join(VIEWS_DIR, 'static', 'vendors.css'));
  router.get(PAGE_CSS, (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = css;
  });
}
