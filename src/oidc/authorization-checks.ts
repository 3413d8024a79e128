// What Patronym checks on every authorization request, after oidc-provider
// has validated it and before the interaction is saved (oidc-provider runs
// extraParams validators on each request, whether the parameter is there or
// not; this one is registered for `library`).
//
// 1. A vendor that registered itself signs no patron in until the sysadmin
//    approves it (`patronym clients approve`).
// 2. `login_hint` is never kept: a vendor may send the patron's card number
//    there, and the interaction (stored until the sign-in ends) must not
//    hold it. It becomes a library hint when it is a card of exactly one
//    library (like `library=`), and is dropped otherwise.
import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import { errors as oidcErrors } from 'oidc-provider';
import type { Library } from '../libraries/library.ts';
import { route } from '../libraries/route.ts';
import type { Logger } from '../log.ts';
import type { VendorPolicies } from '../policy/vendors.ts';

// The library whose card patterns (alone, or with its realm's branches)
// match the hint; undefined when none or several realms do, or when there
// is only one library anyway.
function libraryOfHint(libraries: ReadonlyMap<string, Library>, hint: string): string | undefined {
  const found = route(libraries, { card: hint.trim() });
  return found.kind === 'library' && found.by === 'card' ? found.library.id : undefined;
}

export function authorizationChecks(
  libraries: ReadonlyMap<string, Library>,
  policies: VendorPolicies,
  log: Logger,
): (ctx: KoaContextWithOIDC, library: string | undefined, client: Client) => Promise<void> {
  return async (ctx, library, client) => {
    const params = ctx.oidc.params as Record<string, unknown>;
    const hint = params.login_hint;
    if (hint !== undefined) {
      params.login_hint = undefined;
      const derived = typeof hint === 'string' && library === undefined ? libraryOfHint(libraries, hint) : undefined;
      if (derived) params.library = derived;
    }
    if (client && (await policies.isPending(client.clientId))) {
      log.warn(
        { event: 'vendor_pending', client: client.clientId },
        `authorization: vendor "${client.clientId}" is not approved; \`patronym clients approve ${client.clientId}\` lets it sign patrons in`,
      );
      throw new oidcErrors.UnauthorizedClient('this vendor is not yet approved by the library');
    }
  };
}
