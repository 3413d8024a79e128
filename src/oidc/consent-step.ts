// The consent step: before a vendor learns anything beyond its pseudonym,
// the patron sees exactly what, in plain words, and allows or refuses.
// "Allow" is remembered per patron and vendor; a walk-in visitor is asked
// every time. Nothing new to share means no screen at all.
import type { Context } from 'koa';
import { errors as oidcErrors } from 'oidc-provider';
import { brandingOf } from '../libraries/assets.ts';
import type { Library } from '../libraries/library.ts';
import { walkInLibrary } from '../libraries/walk-in.ts';
import type { Releasable } from '../policy/release.ts';
import { requestOf } from '../policy/requested.ts';
import { sendPage } from '../views.ts';
import { applyToGrant, wanted } from './grants.ts';
import type { Details, Finish, InteractionDeps } from './interaction-step.ts';

export function consentStep(deps: InteractionDeps) {
  const { provider, views, csrf, libraries, policies, consents } = deps;

  function consentItems(releases: readonly Releasable[], library: Library | undefined, walkIn: boolean): string[] {
    return releases.map((r) => {
      if (r === 'affiliation' && walkIn)
        return views.t('consent.item.affiliation.walk-in', { library: library?.name ?? '' });
      return views.t(`consent.item.${r}`, { library: library?.name ?? '', scope: library?.scope ?? '' });
    });
  }

  async function renderConsent(ctx: Context, d: Details, releases: Releasable[], accountId: string): Promise<void> {
    const client = await provider.Client.find(String(d.params.client_id));
    const vendor = client?.clientName ?? String(d.params.client_id);
    const walkIn = walkInLibrary(accountId);
    const library = walkIn ? libraries.get(walkIn) : libraries.get((await deps.accounts.get(accountId))?.library ?? '');
    if (library) views.hint({ library });
    sendPage(ctx, views, 'consent', {
      title: views.t('consent.title', { vendor }),
      branding: library ? brandingOf(library) : undefined,
      vendor,
      policyUri: client?.policyUri,
      items: consentItems(releases, library, walkIn !== undefined),
      remember: walkIn
        ? undefined
        : views.t('consent.remember', { days: library?.retention.consent ?? deps.consentDays }),
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

  async function grantAndFinish(
    ctx: Context,
    d: Details,
    accountId: string,
    allowed: readonly Releasable[],
    finish: Finish,
  ): Promise<void> {
    const clientId = String(d.params.client_id);
    const grant = d.grantId ? await provider.Grant.find(d.grantId) : new provider.Grant({ clientId, accountId });
    if (!grant) throw new oidcErrors.SessionNotFound('grant not found');
    applyToGrant(grant, requestOf(d.params), (await policies.get(clientId)).release, allowed);
    await finish(ctx, { consent: { grantId: await grant.save() } });
  }

  return {
    // The consent prompt: a screen, or straight on when there is nothing new.
    async show(ctx: Context, d: Details, finish: Finish): Promise<void> {
      const accountId = d.session?.accountId;
      if (!accountId) throw new oidcErrors.SessionNotFound('consent without a session');
      const { want, missing } = await pendingConsent(d, accountId);
      if (missing.length === 0) return grantAndFinish(ctx, d, accountId, want, finish);
      return renderConsent(ctx, d, want, accountId);
    },

    async decide(ctx: Context, d: Details, allow: boolean, finish: Finish): Promise<void> {
      const accountId = d.session?.accountId as string;
      if (!allow) {
        await finish(ctx, { error: 'access_denied', error_description: 'the patron did not allow the release' });
        return;
      }
      const clientId = String(d.params.client_id);
      const { want } = await pendingConsent(d, accountId);
      if (!walkInLibrary(accountId)) {
        const library = libraries.get((await deps.accounts.get(accountId))?.library ?? '');
        await consents.allow(accountId, clientId, want, library?.retention.consent ?? deps.consentDays);
      }
      await grantAndFinish(ctx, d, accountId, want, finish);
    },
  };
}
