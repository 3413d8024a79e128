// The patron's side of the flow: oidc-provider sends the browser to
// /interaction/:uid; we show the card + PIN page, check it against the
// library's authenticators and hand oidc-provider an accountId.
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { type InteractionResults, errors as oidcErrors } from 'oidc-provider';
import { normaliseCredentials } from '../auth/credentials.ts';
import type { Library } from '../libraries/library.ts';
import { routeByCard, routeByHint } from '../libraries/route.ts';
import type { Csrf } from '../security/csrf.ts';
import type { Views } from '../views.ts';
import { type SignInDeps, signIn } from './login.ts';
import { IMPLICIT_SCOPES } from './provider.ts';

export interface InteractionDeps extends SignInDeps {
  provider: Provider;
  libraries: ReadonlyMap<string, Library>;
  views: Views;
  csrf: Csrf;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

const hintOf = (details: Details): string | undefined =>
  typeof details.params.library === 'string' ? details.params.library : undefined;

export function interactionRoutes(deps: InteractionDeps): Router {
  const { provider, views, csrf, libraries } = deps;
  const router = new Router();
  // Small forms only: a card, a PIN and a token. Anything bigger is refused
  // before it is read.
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' });

  async function vendorName(details: Details): Promise<string | undefined> {
    const client = await provider.Client.find(String(details.params.client_id));
    return client?.clientName ?? client?.clientId;
  }

  async function renderLogin(
    ctx: Context,
    details: Details,
    library: Library | undefined,
    extra: { error?: string; card?: string } = {},
  ): Promise<void> {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = views.render('login', {
      title: views.t('login.title'),
      library: library?.name,
      vendor: await vendorName(details),
      action: `/interaction/${details.uid}/login`,
      abort: `/interaction/${details.uid}/abort`,
      csrf: csrf.token('login', details.uid),
      ...extra,
    });
  }

  async function finish(ctx: Context, result: InteractionResults): Promise<void> {
    const target = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(target);
  }

  router.get('/interaction/:uid', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) throw new oidcErrors.SessionNotFound('interaction uid mismatch');

    if (details.prompt.name === 'consent') {
      // Nothing beyond the pseudonym is released, so there is nothing to ask:
      // grant the scopes that release nothing and go on.
      const accountId = details.session?.accountId;
      if (!accountId) throw new oidcErrors.SessionNotFound('consent without a session');
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ clientId: String(details.params.client_id), accountId });
      if (!grant) throw new oidcErrors.SessionNotFound('grant not found');
      const requested = String(details.params.scope ?? '').split(' ');
      grant.addOIDCScope(IMPLICIT_SCOPES.filter((s) => requested.includes(s)));
      await finish(ctx, { consent: { grantId: await grant.save() } });
      return;
    }

    const route = routeByHint(libraries, hintOf(details));
    if (route.kind === 'unknown-hint') {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = views.render('error', {
        title: views.t('error.title'),
        message: views.t('error.unknown-library'),
        code: 'unknown_library',
      });
      return;
    }
    await renderLogin(ctx, details, route.kind === 'library' ? route.library : undefined);
  });

  router.post('/interaction/:uid/login', form, async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (
      details.uid !== ctx.params.uid ||
      details.prompt.name !== 'login' ||
      !csrf.verify('login', details.uid, body.csrf)
    ) {
      throw new oidcErrors.SessionNotFound('login form does not belong to this interaction');
    }
    const typedCard = typeof body.card === 'string' && body.card.length <= 64 ? body.card : '';
    const normalised = normaliseCredentials(body.card, body.pin);
    const hint = hintOf(details);
    if (!normalised.ok) {
      const route = routeByHint(libraries, hint);
      await renderLogin(ctx, details, route.kind === 'library' ? route.library : undefined, {
        error: views.t(`outcome.${normalised.problem}`),
        card: typedCard,
      });
      return;
    }
    const route = routeByCard(libraries, hint, normalised.credentials.card);
    if (route.kind !== 'library') {
      await renderLogin(ctx, details, undefined, { error: views.t('outcome.no-library'), card: typedCard });
      return;
    }
    const result = await signIn(deps, route.library, normalised.credentials, String(details.params.client_id));
    if (result.kind === 'ok') {
      await finish(ctx, { login: { accountId: result.accountId, amr: ['pwd'] } });
      return;
    }
    const key = result.kind === 'denied' ? `outcome.${result.reason}` : 'outcome.unavailable';
    ctx.status = result.kind === 'unavailable' ? 503 : 200;
    await renderLogin(ctx, details, route.library, { error: views.t(key), card: typedCard });
  });

  router.get('/interaction/:uid/abort', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) throw new oidcErrors.SessionNotFound('interaction uid mismatch');
    await finish(ctx, { error: 'access_denied', error_description: 'the patron cancelled the sign-in' });
  });

  return router;
}
