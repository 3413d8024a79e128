import type { Middleware } from 'koa';
import { errors as oidcErrors } from 'oidc-provider';
import { describeError, disposition, PatronymError } from './errors.ts';
import type { Logger } from './log.ts';
import { sendError, type Views } from './views.ts';

// Errors from our own routes become a catalogue sentence for the patron and a
// log line for the sysadmin; never a stack trace on a page.
export function errorPages(views: Views, log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null && ctx.method === 'GET') sendError(ctx, views, 404, 'error.not-found');
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      if (error instanceof oidcErrors.SessionNotFound || error instanceof oidcErrors.InvalidRequest) {
        log.info(
          { event: 'interaction_expired', path: ctx.path, reason: describeError(error) },
          'interaction: expired or replayed',
        );
        sendError(ctx, views, 400, 'error.expired', 'session_not_found');
      } else if (status === 413) {
        log.info({ event: 'request_too_large', path: ctx.path }, 'http: request body too large');
        sendError(ctx, views, 413, 'error.too-large', 'request_too_large');
      } else if (error instanceof PatronymError) {
        // Ours: the code decides the status and the sentence (src/errors.ts).
        const { expose, status: coded, page } = disposition(error.code);
        log.error({ event: 'server_error', path: ctx.path, code: error.code, err: error }, 'http: unhandled error');
        sendError(ctx, views, coded, page, expose ? error.code : 'server_error');
      } else if (status >= 400 && status < 500) {
        log.info({ event: 'bad_request', path: ctx.path, status, reason: describeError(error) }, 'http: bad request');
        sendError(ctx, views, status, 'outcome.bad-form', 'invalid_request');
      } else {
        log.error({ event: 'server_error', path: ctx.path, err: error }, 'http: unhandled error');
        sendError(ctx, views, 500, 'error.server', 'server_error');
      }
    }
  };
}
