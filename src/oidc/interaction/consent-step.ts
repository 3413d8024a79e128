// Step 3, consent: before a vendor learns anything beyond its pseudonym,
// the patron sees exactly what, in plain words, and allows or refuses.
// "Allow" is remembered per patron and vendor; a walk-in visitor is asked
// every time. Nothing new to share means no screen at all.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors as oidcErrors } from 'oidc-provider';
import { brandingOf } from '../../libraries/assets.ts';
import type { Library } from '../../libraries/library.ts';
import { walkInLibrary } from '../../libraries/walk-in.ts';
import type { Consents } from '../../policy/consent.ts';
import type { Releasable } from '../../policy/release.ts';
import { requestOf } from '../../policy/requested.ts';
import type { VendorPolicies } from '../../policy/vendors.ts';
import { sendPage } from '../../views.ts';
import type { Accounts } from '../account.ts';
import { applyToGrant, wanted } from '../grants.ts';
import type { Details, Flow, Pages } from './flow.ts';

// What consent is remembered in and for how long: the patron's "allow"s,
// the account record that names the patron's library (whose retention may
// shorten the default), and the default in days.
export interface ConsentServices {
  consents: Consents;
  accounts: Accounts;
  consentDays: number;
}

export interface ConsentStep {
  // GET /interaction/:uid at the consent prompt: a screen, or straight on
  // when there is nothing new.
  show(ctx: Context, d: Details): Promise<void>;
  // POST /interaction/:uid/consent: the patron's answer.
  decide(ctx: Context, d: Details): Promise<void>;
}

export function consentStep(deps: {
  provider: Provider;
  flow: Flow;
  pages: Pages;
  libraries: ReadonlyMap<string, Library>;
  policies: VendorPolicies;
  services: ConsentServices;
}): ConsentStep {
  const { provider, flow, pages, libraries, policies, services } = deps;
  const { views, csrf } = pages;
  const { consents, accounts, consentDays } = services;

  function consentItems(
    ctx: Context,
    releases: readonly Releasable[],
    library: Library | undefined,
    walkIn: boolean,
  ): string[] {
    return releases.map((r) => {
      if (r === 'affiliation' && walkIn)
        return views.t(ctx, 'consent.item.affiliation.walk-in', { library: library?.name ?? '' });
      return views.t(ctx, `consent.item.${r}`, { library: library?.name ?? '', scope: library?.scope ?? '' });
    });
  }

  async function renderConsent(ctx: Context, d: Details, releases: Releasable[], accountId: string): Promise<void> {
    const client = await provider.Client.find(String(d.params.client_id));
    const vendor = client?.clientName ?? String(d.params.client_id);
    const walkIn = walkInLibrary(accountId);
    const library = walkIn ? libraries.get(walkIn) : libraries.get((await accounts.get(accountId))?.library ?? '');
    if (library) views.hint(ctx, { library });
    sendPage(ctx, views, 'consent', {
      title: views.t(ctx, 'consent.title', { vendor }),
      branding: library ? brandingOf(library) : undefined,
      vendor,
      policyUri: client?.policyUri,
      items: consentItems(ctx, releases, library, walkIn !== undefined),
      remember: walkIn
        ? undefined
        : views.t(ctx, 'consent.remember', { days: library?.retention.consent ?? consentDays }),
      action: `/interaction/${d.uid}/consent`,
      csrf: csrf.token('consent', d.uid),
    });
  }

  // The releases this request wants that the patron has not allowed yet.
  async function pendingConsent(d: Details, accountId: string): Promise<{ want: Releasable[]; missing: Releasable[] }> {
    const clientId = String(d.params.client_id);
    const want = wanted(requestOf(d.params), (await policies.get(clientId)).release);
    const allowed = walkInLibrary(accountId) ? [] : await consents.allowed(accountId, clientId);
    return { want, missing: want.filter((r) => !allowed.includes(r)) };
  }

  async function grantAndFinish(ctx: Context, d: Details, accountId: string, allowed: readonly Releasable[]) {
    const clientId = String(d.params.client_id);
    const grant = d.grantId ? await provider.Grant.find(d.grantId) : new provider.Grant({ clientId, accountId });
    if (!grant) throw new oidcErrors.SessionNotFound('grant not found');
    applyToGrant(grant, requestOf(d.params), (await policies.get(clientId)).release, allowed);
    await flow.finish(ctx, { consent: { grantId: await grant.save() } });
  }

  return {
    async show(ctx, d) {
      const accountId = d.session?.accountId;
      if (!accountId) throw new oidcErrors.SessionNotFound('consent without a session');
      const { want, missing } = await pendingConsent(d, accountId);
      if (missing.length === 0) return grantAndFinish(ctx, d, accountId, want);
      return renderConsent(ctx, d, want, accountId);
    },

    async decide(ctx, d) {
      const body = flow.form(ctx, d, 'consent');
      const accountId = d.session?.accountId;
      if (!accountId) throw new oidcErrors.SessionNotFound('consent form does not belong to this interaction');
      if (body.decision !== 'allow') {
        await flow.finish(ctx, { error: 'access_denied', error_description: 'the patron did not allow the release' });
        return;
      }
      const clientId = String(d.params.client_id);
      const { want } = await pendingConsent(d, accountId);
      if (!walkInLibrary(accountId)) {
        const library = libraries.get((await accounts.get(accountId))?.library ?? '');
        await consents.allow(accountId, clientId, want, library?.retention.consent ?? consentDays);
      }
      await grantAndFinish(ctx, d, accountId, want);
    },
  };
}
