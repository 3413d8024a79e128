// The card + PIN page, with whatever went wrong the last time: shown by the
// library step (a library is known, or the card number will tell), the
// sign-in step (a refused attempt) and the walk-in step (outside the
// building).
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { brandingOf } from '../../libraries/assets.ts';
import type { Library } from '../../libraries/library.ts';
import type { VendorPolicies } from '../../policy/vendors.ts';
import { sendPage } from '../../views.ts';
import { ACCOUNT_CLIENT } from '../account-client.ts';
import { type Details, hintOf, type Pages } from './flow.ts';
import { walkInOffer } from './walk-in-offer.ts';

// The field a sign-in problem is about: a wrong card or PIN cannot be told
// apart (on purpose), so both; a blocked card or an outage is no field's.
export type Fault = 'card' | 'pin' | 'both';
const FAULTS: Record<string, Fault> = {
  'card-missing': 'card',
  'card-too-long': 'card',
  'pin-missing': 'pin',
  'pin-too-long': 'pin',
  'bad-credentials': 'both',
  'unknown-card': 'both',
};
export const faultOf = (problem: string): Fault | undefined => FAULTS[problem];

export interface LoginProblem {
  error?: string;
  fault?: Fault;
  // What the patron typed, shown again (never the PIN).
  card?: string;
  status?: number;
  shared?: boolean;
}

export type RenderLogin = (
  ctx: Context,
  d: Details,
  library: Library | undefined,
  problem?: LoginProblem,
) => Promise<void>;

export function loginPage(deps: {
  provider: Provider;
  pages: Pages;
  libraries: ReadonlyMap<string, Library>;
  policies: VendorPolicies;
}): RenderLogin {
  const { provider, pages, libraries, policies } = deps;
  const { views, csrf } = pages;
  const federated = libraries.size > 1;

  async function vendorName(ctx: Context, d: Details): Promise<string | undefined> {
    // The broker's own privacy page is named in the patron's language.
    if (d.params.client_id === ACCOUNT_CLIENT) return views.t(ctx, 'account.client');
    const client = await provider.Client.find(String(d.params.client_id));
    return client?.clientName ?? client?.clientId;
  }

  return async (ctx, d, library, problem = {}) => {
    if (library) views.hint(ctx, { library });
    const walkIn = await walkInOffer(libraries, policies, ctx, d, library);
    sendPage(
      ctx,
      views,
      'login',
      {
        walkIn: walkIn
          ? { action: `/interaction/${d.uid}/walk-in`, csrf: csrf.token('walk-in', d.uid), library: walkIn.id }
          : undefined,
        title: views.t(ctx, 'login.title'),
        branding: library ? brandingOf(library) : undefined,
        libraryId: library?.id,
        vendor: await vendorName(ctx, d),
        action: `/interaction/${d.uid}/login`,
        abort: `/interaction/${d.uid}/abort`,
        chooseUrl: federated && !hintOf(d) ? `/interaction/${d.uid}/libraries` : undefined,
        csrf: csrf.token('login', d.uid),
        error: problem.error,
        errorCount: problem.error ? 1 : 0,
        // Which field the error is about (aria-invalid, focus); none for a
        // card refused for its status or a system that did not answer.
        fault: problem.fault,
        cardInput: library?.cardInput ?? 'text',
        pinInput: library?.pinInput ?? 'text',
        card: problem.card,
        shared: problem.shared,
      },
      problem.status ?? 200,
    );
  };
}
