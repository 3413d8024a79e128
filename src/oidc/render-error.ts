// oidc-provider's error page, in our layout. The patron sees a sentence from
// the catalogue and the OAuth error code (useful to the vendor's support),
// never the description, a stack or anything internal.
import type { Configuration } from 'oidc-provider';
import { sendPage, type Views } from '../views.ts';

const EXPIRED = new Set(['session_not_found', 'invalid_request_uri']);
const SAFE_CODE = /^[a-z_]{1,40}$/;

export function renderError(views: Views): NonNullable<Configuration['renderError']> {
  return async (ctx, out) => {
    const code = typeof out.error === 'string' && SAFE_CODE.test(out.error) ? out.error : 'server_error';
    const message =
      code === 'server_error'
        ? views.t(ctx, 'error.server')
        : EXPIRED.has(code)
          ? views.t(ctx, 'error.expired')
          : views.t(ctx, 'error.bad-request');
    // oidc-provider has set the status already.
    sendPage(ctx, views, 'error', { title: views.t(ctx, 'error.title'), message, code }, ctx.status);
  };
}
