// The patron's privacy page, /account: sign in with card + PIN (see
// privacy-sign-in.ts) and see every vendor used and what each learned;
// reset a vendor's pseudonym, withdraw consent, forget me.
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../config/config.ts';
import type { Library } from '../libraries/library.ts';
import { walkInLibrary } from '../libraries/walk-in.ts';
import type { Logger } from '../log.ts';
import type { Accounts } from '../oidc/account.ts';
import { ACCOUNT_CLIENT } from '../oidc/account-client.ts';
import { notifyLogout } from '../oidc/backchannel.ts';
import type { Pseudonyms } from '../oidc/pseudonyms.ts';
import { sectorClients } from '../oidc/sector-clients.ts';
import type { Consents } from '../policy/consent.ts';
import type { PatronData } from '../policy/patron-data.ts';
import type { Releasable } from '../policy/release.ts';
import type { ReleaseLog } from '../policy/release-log.ts';
import type { Csrf } from '../security/csrf.ts';
import type { Store } from '../store/store.ts';
import { sendError, sendPage, type Views } from '../views.ts';
import {
  type Notice,
  type PrivacySession,
  PrivacySessions,
  SESSION_COOKIE,
  SESSION_SECONDS,
} from './privacy-session.ts';
import { finishSignIn, privacyCookie, startSignIn } from './privacy-sign-in.ts';
import { releaseSentences } from './public-pages.ts';

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

export function privacyRoutes(deps: PrivacyDeps): Router {
  const { config, provider, store, views, csrf, accounts, consents, releaseLog, patronData, libraries } = deps;
  const router = new Router();
  const form = bodyParser({ enableTypes: ['form'], formLimit: '4kb', encoding: 'utf-8' });
  const sessions = new PrivacySessions(store);
  const signIn = (ctx: Context) => startSignIn(ctx, config);

  const html = (ctx: Context, page: string, data: Record<string, unknown>, status = 200) =>
    sendPage(ctx, views, page, data, status);

  async function vendorName(clientId: string): Promise<string> {
    const client = await provider.Client.find(clientId);
    return client?.clientName ?? clientId;
  }

  const releaseWords = (ctx: Context, releases: readonly Releasable[]) => releaseSentences(views, ctx, releases);

  // The signed-in patron of the privacy page, if any.
  async function patron(ctx: Context): Promise<PrivacySession | undefined> {
    const sessionId = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    return sessionId ? sessions.find(sessionId) : undefined;
  }

  // A notice names a vendor only by client id, and only one the broker
  // knows: nothing a link can carry reaches the page as text.
  async function noticeText(ctx: Context, notice: Notice | undefined): Promise<string | undefined> {
    if (!notice) return undefined;
    const client = await provider.Client.find(notice.vendor);
    if (!client) return undefined;
    return views.t(ctx, `account.done.${notice.id}`, { vendor: client.clientName ?? client.clientId });
  }

  function expired(ctx: Context): void {
    sendError(ctx, views, 400, 'error.expired', 'session_not_found');
  }

  router.get('/account/callback', async (ctx) => {
    const outcome = await finishSignIn(ctx, deps);
    if (outcome.kind === 'denied') return ctx.redirect('/vendors');
    if (outcome.kind === 'expired') return expired(ctx);
    if (walkInLibrary(outcome.accountId)) {
      return html(ctx, 'error', { title: views.t(ctx, 'account.title'), message: views.t(ctx, 'account.walk-in') });
    }
    const sessionId = await sessions.open(outcome.accountId);
    ctx.cookies.set(SESSION_COOKIE, sessionId, { ...privacyCookie(ctx), maxAge: SESSION_SECONDS * 1000 });
    ctx.redirect('/account');
  });

  router.get('/account', async (ctx) => {
    const who = await patron(ctx);
    if (!who) return signIn(ctx);
    const record = await accounts.get(who.accountId);
    const library = libraries.get(record?.library ?? '');
    // The patron's library speaks its language and wording here too.
    if (library) views.hint(ctx, { library });
    const retention = library?.retention ?? config.retention;
    const used = await releaseLog.list(who.accountId, retention.releaseLog);
    const allowed = await consents.list(who.accountId);
    const vendors = await Promise.all(
      Object.entries(used).map(async ([clientId, use]) => ({
        clientId,
        name: await vendorName(clientId),
        first: use.first,
        last: use.last,
        received: releaseWords(ctx, use.received),
        consentUntil: allowed[clientId] ? new Date(allowed[clientId].until).toISOString().slice(0, 10) : undefined,
      })),
    );
    if (who.notice) await sessions.setNotice(who, undefined);
    html(ctx, 'account', {
      title: views.t(ctx, 'account.title'),
      vendors: vendors.sort((a, b) => b.last.localeCompare(a.last)),
      retentionDays: retention.releaseLog,
      notice: await noticeText(ctx, who.notice),
      csrf: csrf.token('account', who.sessionId),
    });
  });

  router.get('/account/confirm', async (ctx) => {
    const who = await patron(ctx);
    if (!who) return signIn(ctx);
    const action = String(ctx.query.action);
    if (!['reset', 'withdraw', 'forget'].includes(action)) return expired(ctx);
    const clientId = typeof ctx.query.vendor === 'string' ? ctx.query.vendor : undefined;
    if (action !== 'forget' && !(clientId && (await provider.Client.find(clientId)))) return expired(ctx);
    const vendor = clientId ? await vendorName(clientId) : '';
    html(ctx, 'confirm', {
      title: views.t(ctx, `account.confirm.${action}.title`, { vendor }),
      message: views.t(ctx, `account.confirm.${action}`, { vendor }),
      action: `/account/${action}`,
      vendor: action === 'forget' ? undefined : clientId,
      csrf: csrf.token('account', who.sessionId),
    });
  });

  // Every action: a signed-in patron, a CSRF token bound to their privacy
  // page session, a known vendor where one is named.
  async function action(ctx: Context): Promise<(PrivacySession & { clientId?: string }) | undefined> {
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

  router.post('/account/reset', form, async (ctx) => {
    const who = await action(ctx);
    if (!who?.clientId) return who && expired(ctx);
    const vendor = await sectorClients(deps, who.clientId, [ACCOUNT_CLIENT]);
    if (!vendor) return expired(ctx);
    const { sector, clientIds } = vendor;
    // Told with the pseudonym it knew, before that pseudonym changes.
    await notifyLogout(deps, who.accountId, clientIds);
    // Grants and tokens issued under the old pseudonym end, at every client
    // that shared it (a refresh token that outlived the reset would answer
    // with the new `sub`, linking old and new): before the reset, and again
    // after it for any sign-in that came in between.
    let ended = await patronData.endVendor(who.accountId, clientIds);
    await accounts.resetPseudonym(who.accountId, sector);
    ended += await patronData.endVendor(who.accountId, clientIds);
    deps.log.info(
      { event: 'privacy', action: 'reset-pseudonym', vendor: who.clientId, clients: clientIds.length, grants: ended },
      'privacy: pseudonym reset',
    );
    await sessions.setNotice(who, { id: 'reset', vendor: who.clientId });
    ctx.redirect('/account');
  });

  router.post('/account/withdraw', form, async (ctx) => {
    const who = await action(ctx);
    if (!who?.clientId) return who && expired(ctx);
    await consents.withdraw(who.accountId, who.clientId);
    await notifyLogout(deps, who.accountId, [who.clientId]);
    await patronData.endVendor(who.accountId, [who.clientId]);
    deps.log.info({ event: 'privacy', action: 'withdraw', vendor: who.clientId }, 'privacy: consent withdrawn');
    await sessions.setNotice(who, { id: 'withdraw', vendor: who.clientId });
    ctx.redirect('/account');
  });

  router.post('/account/forget', form, async (ctx) => {
    const who = await action(ctx);
    if (!who) return;
    await notifyLogout(deps, who.accountId);
    // New pseudonyms everywhere first, so no sign-in racing this one can be
    // given an old one.
    await accounts.forget(who.accountId);
    const removed = await patronData.forget(who.accountId);
    deps.log.info({ event: 'privacy', action: 'forget', removed }, 'privacy: patron forgotten');
    ctx.cookies.set(SESSION_COOKIE, null, privacyCookie(ctx));
    html(ctx, 'logged-out', {
      title: views.t(ctx, 'account.done.forget.title'),
      message: views.t(ctx, 'account.done.forget'),
    });
  });

  router.post('/account/logout', form, async (ctx) => {
    const who = await action(ctx);
    if (!who) return;
    await sessions.close(who.sessionId);
    ctx.cookies.set(SESSION_COOKIE, null, privacyCookie(ctx));
    ctx.redirect('/vendors');
  });

  return router;
}
