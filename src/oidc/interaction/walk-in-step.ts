// "Continue without signing in": the patron is inside a library building
// and the vendor's policy allows walk-in access. The session gets the
// library's walk-in accountId (a new pseudonym each time) and is always a
// shared computer's.
import type { Context } from 'koa';
import type { Library } from '../../libraries/library.ts';
import { walkInAccountId } from '../../libraries/walk-in.ts';
import type { Logger } from '../../log.ts';
import type { VendorPolicies } from '../../policy/vendors.ts';
import type { Views } from '../../views.ts';
import { amrOf } from './amr.ts';
import type { Details, Flow } from './flow.ts';
import type { RenderLogin } from './login-page.ts';
import { walkInOffer } from './walk-in-offer.ts';

export function walkInStep(deps: {
  flow: Flow;
  views: Views;
  libraries: ReadonlyMap<string, Library>;
  policies: VendorPolicies;
  renderLogin: RenderLogin;
  log: Logger;
}): (ctx: Context, d: Details) => Promise<void> {
  const { flow, views, libraries, policies, renderLogin, log } = deps;
  return async function postWalkIn(ctx, d) {
    const body = flow.form(ctx, d, 'walk-in');
    const shown = typeof body.library === 'string' ? libraries.get(body.library) : undefined;
    // Checked again: the offer on the page may be stale or forged.
    const library = await walkInOffer(libraries, policies, ctx, d, shown);
    if (!library) {
      // Outside the building (or a vendor without walk-in): the sign-in form.
      return renderLogin(ctx, d, shown, { error: views.t(ctx, 'outcome.bad-form'), status: 403 });
    }
    log.info(
      { event: 'login', outcome: 'walk-in', library: library.id, vendor: String(d.params.client_id) },
      'login: walk-in',
    );
    await flow.finish(ctx, {
      login: { accountId: walkInAccountId(library.id), amr: amrOf('none', true), remember: false },
    });
  };
}
