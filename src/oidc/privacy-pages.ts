// The patron's privacy pages. /account: sign in with card + PIN (the broker
// is its own first-party client, so the same sign-in page and the same
// authenticators check the card) and see every vendor used and what each
// learned; reset a vendor's pseudonym, withdraw consent, forget me.
// /vendors: every vendor and what it may ask for. /privacy: the notice.
import { createHash, randomBytes } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { ClientMetadata, default as Provider } from 'oidc-provider';
import type { Config } from '../config/load.ts';
import type { Library } from '../libraries/library.ts';
import type { Logger } from '../log.ts';
import type { Consents } from '../policy/consent.ts';
import type { PatronData } from '../policy/patron-data.ts';
import type { Releasable } from '../policy/release.ts';
import type { ReleaseLog } from '../policy/release-log.ts';
import { sectorOf } from '../pseudonym/sector.ts';
import type { Csrf } from '../security/csrf.ts';
import type { Store } from '../store/store.ts';
import { sendError, sendPage, type Views } from '../views.ts';
import type { Accounts } from './account.ts';
import { notifyLogout } from './backchannel.ts';
import type { Pseudonyms } from './pseudonyms.ts';
import { releaseSentences } from './public-pages.ts';
import { walkInLibrary } from './walk-in.ts';

export const ACCOUNT_CLIENT = 'patronym-account';
const SESSION_COOKIE = 'patronym_account';
const LOGIN_COOKIE = 'patronym_account_login';
// The privacy page is for a few minutes' use, often on a shared computer.
const SESSION_SECONDS = 15 * 60;

export interface PrivacyDeps {
  config: Config;
  provider: Provider;
  store: Store;
  views: Views;
  csrf: Csrf;
  accounts: Accounts;
  consents: Consents;
  releaseLog: ReleaseLog;
  patronData: PatronData;
  libraries: ReadonlyMap<string, Library>;
  log: Logger;
  pseudonyms: Pseudonyms;
}

export function accountClientMetadata(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT,
    client_name: 'Your privacy page',
    token_endpoint_auth_method: 'none',
    redirect_uris: [`${issuer}/account/callback`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    subject_type: 'pairwise',
  };
}

const S256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export function privacyRoutes(deps: PrivacyDeps): Router {
  const { config, provider, store, views, csrf, accounts, consents, releaseLog, patronData, libraries } = deps;
  const router = new Router();
  const form = bodyParser({ enableTypes: ['form'], formLimit: '4kb', encoding: 'utf-8' });
  const cookie = (ctx: Context) => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: ctx.secure,
    signed: true,
    overwrite: true,
  });

  const html = (ctx: Context, page: string, data: Record<string, unknown>, status = 200) =>
    sendPage(ctx, views, page, data, status);

  async function vendorName(clientId: string): Promise<string> {
    const client = await provider.Client.find(clientId);
    return client?.clientName ?? clientId;
  }

  const releaseWords = (releases: readonly Releasable[]) => releaseSentences(views, releases);

  // The signed-in patron of the privacy page, if any.
  async function patron(ctx: Context): Promise<{ sessionId: string; accountId: string } | undefined> {
    const sessionId = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    if (!sessionId) return undefined;
    const record = await store.find('AccountSession', S256(sessionId));
    return typeof record?.accountId === 'string' ? { sessionId, accountId: record.accountId } : undefined;
  }

  function startSignIn(ctx: Context): void {
    const state = randomBytes(16).toString('base64url');
    const verifier = randomBytes(32).toString('base64url');
    ctx.cookies.set(LOGIN_COOKIE, `${state}.${verifier}`, { ...cookie(ctx), maxAge: config.ttl.interaction * 1000 });
    const url = new URL(`${config.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: ACCOUNT_CLIENT,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${config.issuer}/account/callback`,
      state,
      code_challenge: S256(verifier),
      code_challenge_method: 'S256',
      // Always ask for the card: the privacy page is not for whoever left a
      // session open on a shared computer.
      prompt: 'login',
    }).toString();
    ctx.redirect(url.href);
  }

  function expired(ctx: Context): void {
    sendError(ctx, views, 400, 'error.expired', 'session_not_found');
  }

  router.get('/account/callback', async (ctx) => {
    const [state, verifier] = (ctx.cookies.get(LOGIN_COOKIE, { signed: true }) ?? '').split('.');
    ctx.cookies.set(LOGIN_COOKIE, null, cookie(ctx));
    if (ctx.query.error === 'access_denied') return ctx.redirect('/vendors');
    const value = typeof ctx.query.code === 'string' ? ctx.query.code : '';
    if (!state || !verifier || ctx.query.state !== state || !value) return expired(ctx);
    // The broker redeems its own code in-process: same checks a token
    // endpoint makes (client, redirect URI, PKCE, one-time use).
    const code = await provider.AuthorizationCode.find(value);
    if (
      !code?.isValid ||
      code.clientId !== ACCOUNT_CLIENT ||
      code.redirectUri !== `${config.issuer}/account/callback` ||
      code.codeChallenge !== S256(verifier) ||
      !code.accountId
    ) {
      return expired(ctx);
    }
    await code.consume();
    if (walkInLibrary(code.accountId)) {
      return html(ctx, 'error', { title: views.t('account.title'), message: views.t('account.walk-in') });
    }
    const sessionId = randomBytes(24).toString('base64url');
    // Keyed by a hash: the cookie value is a bearer secret.
    await store.upsert('AccountSession', S256(sessionId), { accountId: code.accountId }, SESSION_SECONDS);
    ctx.cookies.set(SESSION_COOKIE, sessionId, { ...cookie(ctx), maxAge: SESSION_SECONDS * 1000 });
    ctx.redirect('/account');
  });

  router.get('/account', async (ctx) => {
    const who = await patron(ctx);
    if (!who) return startSignIn(ctx);
    const record = await accounts.get(who.accountId);
    const library = libraries.get(record?.library ?? '');
    const retention = library?.retention ?? config.retention;
    const used = await releaseLog.list(who.accountId, retention.releaseLog);
    const allowed = await consents.list(who.accountId);
    const vendors = await Promise.all(
      Object.entries(used).map(async ([clientId, use]) => ({
        clientId,
        name: await vendorName(clientId),
        first: use.first,
        last: use.last,
        received: releaseWords(use.received),
        consentUntil: allowed[clientId] ? new Date(allowed[clientId].until).toISOString().slice(0, 10) : undefined,
      })),
    );
    const notice = typeof ctx.query.done === 'string' ? ctx.query.done : undefined;
    const vendor = typeof ctx.query.vendor === 'string' ? await vendorName(ctx.query.vendor) : '';
    html(ctx, 'account', {
      title: views.t('account.title'),
      vendors: vendors.sort((a, b) => b.last.localeCompare(a.last)),
      retentionDays: retention.releaseLog,
      notice: notice === 'reset' || notice === 'withdraw' ? views.t(`account.done.${notice}`, { vendor }) : undefined,
      csrf: csrf.token('account', who.sessionId),
    });
  });

  router.get('/account/confirm', async (ctx) => {
    const who = await patron(ctx);
    if (!who) return startSignIn(ctx);
    const action = String(ctx.query.action);
    if (!['reset', 'withdraw', 'forget'].includes(action)) return expired(ctx);
    const clientId = typeof ctx.query.vendor === 'string' ? ctx.query.vendor : undefined;
    if (action !== 'forget' && !(clientId && (await provider.Client.find(clientId)))) return expired(ctx);
    const vendor = clientId ? await vendorName(clientId) : '';
    html(ctx, 'confirm', {
      title: views.t(`account.confirm.${action}.title`, { vendor }),
      message: views.t(`account.confirm.${action}`, { vendor }),
      action: `/account/${action}`,
      vendor: action === 'forget' ? undefined : clientId,
      csrf: csrf.token('account', who.sessionId),
    });
  });

  // Every action: a signed-in patron, a CSRF token bound to their privacy
  // page session, a known vendor where one is named.
  async function action(
    ctx: Context,
  ): Promise<{ accountId: string; sessionId: string; clientId?: string } | undefined> {
    const who = await patron(ctx);
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (!who || !csrf.verify('account', who.sessionId, body.csrf)) {
      expired(ctx);
      return undefined;
    }
    if (typeof body.vendor !== 'string') return who;
    if (!(await provider.Client.find(body.vendor))) {
      expired(ctx);
      return undefined;
    }
    return { ...who, clientId: body.vendor };
  }

  // Clients of one vendor share a sector, and so a pseudonym.
  async function sameVendor(clientId: string): Promise<{ sector: string; clientIds: string[] }> {
    const of = async (id: string) => {
      const c = await provider.Client.find(id);
      return c
        ? sectorOf({ sectorIdentifierUri: c.sectorIdentifierUri, redirectUris: c.redirectUris ?? [] })
        : undefined;
    };
    const sector = (await of(clientId)) as string;
    const clientIds: string[] = [];
    for (const c of config.clients) if ((await of(c.client_id)) === sector) clientIds.push(c.client_id);
    return { sector, clientIds: clientIds.length > 0 ? clientIds : [clientId] };
  }

  router.post('/account/reset', form, async (ctx) => {
    const who = await action(ctx);
    if (!who?.clientId) return who && expired(ctx);
    const { sector, clientIds } = await sameVendor(who.clientId);
    // Told with the pseudonym it knew, before that pseudonym changes.
    await notifyLogout(deps, who.accountId, clientIds);
    await accounts.resetPseudonym(who.accountId, sector);
    // Tokens carrying the old pseudonym end with it.
    await patronData.endVendor(who.accountId, clientIds);
    deps.log.info({ event: 'privacy', action: 'reset-pseudonym', vendor: who.clientId }, 'privacy: pseudonym reset');
    ctx.redirect(`/account?done=reset&vendor=${encodeURIComponent(who.clientId)}`);
  });

  router.post('/account/withdraw', form, async (ctx) => {
    const who = await action(ctx);
    if (!who?.clientId) return who && expired(ctx);
    await consents.withdraw(who.accountId, who.clientId);
    await notifyLogout(deps, who.accountId, [who.clientId]);
    await patronData.endVendor(who.accountId, [who.clientId]);
    deps.log.info({ event: 'privacy', action: 'withdraw', vendor: who.clientId }, 'privacy: consent withdrawn');
    ctx.redirect(`/account?done=withdraw&vendor=${encodeURIComponent(who.clientId)}`);
  });

  router.post('/account/forget', form, async (ctx) => {
    const who = await action(ctx);
    if (!who) return;
    await notifyLogout(deps, who.accountId);
    const removed = await patronData.forget(who.accountId);
    deps.log.info({ event: 'privacy', action: 'forget', removed }, 'privacy: patron forgotten');
    ctx.cookies.set(SESSION_COOKIE, null, cookie(ctx));
    html(ctx, 'logged-out', { title: views.t('account.done.forget.title'), message: views.t('account.done.forget') });
  });

  router.post('/account/logout', form, async (ctx) => {
    const who = await action(ctx);
    if (!who) return;
    await store.destroy('AccountSession', S256(who.sessionId));
    ctx.cookies.set(SESSION_COOKIE, null, cookie(ctx));
    ctx.redirect('/vendors');
  });

  return router;
}
