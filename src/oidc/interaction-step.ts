// What every step of an interaction (library, sign-in, consent) shares,
// apart from the routes in interactions.ts, so a step module does not import
// the routes that call it.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { Library } from '../libraries/library.ts';
import type { Consents } from '../policy/consent.ts';
import type { VendorPolicies } from '../policy/vendors.ts';
import type { Csrf } from '../security/csrf.ts';
import type { DeviceCookies } from '../security/device-cookie.ts';
import type { Throttle } from '../security/throttle.ts';
import type { Views } from '../views.ts';
import type { SignInDeps } from './login.ts';

export interface InteractionDeps extends SignInDeps {
  provider: Provider;
  libraries: ReadonlyMap<string, Library>;
  views: Views;
  csrf: Csrf;
  policies: VendorPolicies;
  consents: Consents;
  consentDays: number;
  throttle: Throttle;
  deviceCookies: DeviceCookies;
}

// Kept in the session's amr (never released to vendors: `amr` is not among
// the broker's claims) so the session lifetime can follow the patron's
// "shared computer" choice.
export const SHARED_COMPUTER = 'shared';

export type Details = Awaited<ReturnType<Provider['interactionDetails']>>;
export type Finish = (ctx: Context, result: InteractionResults) => Promise<void>;
