// Request bodies are never compressed here. No browser compresses a form and
// no OAuth client library compresses a token or registration request, so
// every decoder left out is one less way in: a corrupt gzip body (which the
// form parser turned into a 500 with a stack trace), a zip bomb, a decoder
// bug. Refused with 415 and `Accept-Encoding: identity` (RFC 7694), before
// any parser reads the body: a page for a browser, OAuth JSON for the rest.
import type { Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { sendError, type Views } from '../views.ts';

export function refuseEncodedBodies(views: Views, log: Logger): Middleware {
  return async (ctx, next) => {
    const encoding = (ctx.get('content-encoding') || 'identity').trim().toLowerCase();
    if (encoding === 'identity' || ctx.method === 'GET' || ctx.method === 'HEAD') return next();
    // Vendor-chosen, so quoted and cut short; never a patron's data.
    const shown = encoding.slice(0, 40);
    log.info(
      { event: 'unsupported_encoding', path: ctx.path, encoding: shown },
      `http: refused a request body with content-encoding "${shown}"`,
    );
    ctx.set('Accept-Encoding', 'identity');
    // Nothing of the body is read: close the connection rather than drain it.
    ctx.set('Connection', 'close');
    if (ctx.accepts('json', 'html') === 'html') {
      sendError(ctx, views, 415, 'outcome.bad-form', 'unsupported_encoding');
      return;
    }
    ctx.status = 415;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      error: 'invalid_request',
      error_description: `request bodies must not be compressed (content-encoding "${shown}")`,
    };
  };
}
