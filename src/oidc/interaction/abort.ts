// "Cancel" on any page of the interaction: the vendor gets access_denied
// (RFC 6749 4.1.2.1), the patron goes back to the vendor.
import type { Context } from 'koa';
import type { Flow } from './flow.ts';

export function abortStep(flow: Flow): (ctx: Context) => Promise<void> {
  return async function abort(ctx) {
    await flow.details(ctx);
    await flow.finish(ctx, { error: 'access_denied', error_description: 'the patron cancelled the sign-in' });
  };
}
