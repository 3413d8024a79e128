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
    // OIDC Core 3.1.2.1 max_age, for requests that leave it out: a broker
    // session left open by someone else never opens the privacy page.
    default_max_age: 0,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    subject_type: 'pairwise',
  };
}

// The notices the privacy page can show after an action: a closed set.
const NOTICES = ['reset', 'withdraw'] as const;
interface Notice {
  id: (typeof NOTICES)[number];
  vendor: string;
}
const noticeOf = (value: unknown): Notice | undefined => {
  const n = value as Partial<Notice> | undefined;
  return n && NOTICES.includes(n.id as Notice['id']) && typeof n.vendor === 'string' ? (n as Notice) : undefined;
};

interface PrivacySession {
  sessionId: string;
  accountId: string;
  // Epoch ms: a notice written into the session keeps its lifetime.
  expiresAt: number;
  notice: Notice | undefined;
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
  async function patron(ctx: Context): Promise<PrivacySession | undefined> {
    const sessionId = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    if (!sessionId) return undefined;
    const record = await store.find('AccountSession', S256(sessionId));
    if (typeof record?.accountId !== 'string') return undefined;
    return {
      sessionId,
      accountId: record.accountId,
      expiresAt: typeof record.expiresAt === 'number' ? record.expiresAt : Date.now() + SESSION_SECONDS * 1000,
      notice: noticeOf(record.notice),
    };
  }

  // What the privacy page says after an action: kept in the patron's
  // privacy-page session (never taken from the URL), shown once.
  async function setNotice(who: PrivacySession, notice: Notice | undefined): Promise<void> {
    const left = Math.ceil((who.expiresAt - Date.now()) / 1000);
    if (left <= 0) return;
    await store.update(
      'AccountSession',
      S256(who.sessionId),
      (current) => {
        const { notice: _old, ...rest } = current ?? { accountId: who.accountId, expiresAt: who.expiresAt };
        return notice ? { ...rest, notice } : rest;
      },
      left,
    );
  }

  function startSignIn(ctx: Context): void {
    const state = randomBytes(16).toString('base64url');
    const verifier = randomBytes(32).toString('base64url');
    // When the sign-in started: the callback accepts only a sign-in made
    // after it (auth_time), whatever the request URL was made to say.
    const started = Math.floor(Date.now() / 1000);
    ctx.cookies.set(LOGIN_COOKIE, `${state}.${verifier}.${started}`, {
      ...cookie(ctx),
      maxAge: config.ttl.interaction * 1000,
    });
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
      max_age: '0',
    }).toString();
    ctx.redirect(url.href);
  }

  function expired(ctx: Context): void {
    sendError(ctx, views, 400, 'error.expired', 'session_not_found');
  }

  router.get('/account/callback', async (ctx) => {
    const [state, verifier, started] = (ctx.cookies.get(LOGIN_COOKIE, { signed: true }) ?? '').split('.');
    ctx.cookies.set(LOGIN_COOKIE, null, cookie(ctx));
    if (ctx.query.error === 'access_denied') return ctx.redirect('/vendors');
    const value = typeof ctx.query.code === 'string' ? ctx.query.code : '';
    if (!state || !verifier || !started || ctx.query.state !== state || !value) return expired(ctx);
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
    // max_age=0 semantics: the card and PIN were checked for this very
    // sign-in, not for a broker session someone opened earlier (prompt and
    // max_age in the URL are the browser's to change).
    if (!(typeof code.authTime === 'number' && code.authTime >= Number(started))) {
      await code.consume();
      deps.log.warn(
        { event: 'privacy', action: 'stale-sign-in', authAge: Math.floor(Date.now() / 1000) - Number(code.authTime) },
        'privacy: sign-in to the privacy page refused: card and pin not asked for this sign-in',
      );
      return expired(ctx);
    }
    await code.consume();
    if (walkInLibrary(code.accountId)) {
      return html(ctx, 'error', { title: views.t('account.title'), message: views.t('account.walk-in') });
    }
    const sessionId = randomBytes(24).toString('base64url');
    // Keyed by a hash: the cookie value is a bearer secret.
    await store.upsert(
      'AccountSession',
      S256(sessionId),
      { accountId: code.accountId, expiresAt: Date.now() + SESSION_SECONDS * 1000 },
      SESSION_SECONDS,
    );
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
    if (who.notice) await setNotice(who, undefined);
    html(ctx, 'account', {
      title: views.t('account.title'),
      vendors: vendors.sort((a, b) => b.last.localeCompare(a.last)),
      retentionDays: retention.releaseLog,
      notice: await noticeText(who.notice),
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

  // A notice names a vendor only by client id, and only one the broker
  // knows: nothing a link can carry reaches the page as text.
  async function noticeText(notice: Notice | undefined): Promise<string | undefined> {
    if (!notice) return undefined;
    const client = await provider.Client.find(notice.vendor);
    if (!client) return undefined;
    return views.t(`account.done.${notice.id}`, { vendor: client.clientName ?? client.clientId });
  }

  // Every client sharing this one's sector shares the patron's pseudonym
  // with it (OIDC Core 8.1): configured in the file or registered in the
  // store alike. The privacy page's own client is never among them.
  async function sameVendor(clientId: string): Promise<{ sector: string; clientIds: string[] }> {
    const of = async (id: string) => {
      const c = await provider.Client.find(id);
      if (!c) return undefined;
      try {
        return sectorOf({ sectorIdentifierUri: c.sectorIdentifierUri, redirectUris: c.redirectUris ?? [] });
      } catch {
        return undefined; // a client without one sector gets no pairwise sub at all
      }
    };
    const sector = (await of(clientId)) as string;
    const candidates = new Set([
      clientId,
      ...config.clients.map((c) => c.client_id),
      ...(await store.list('Client')).map((r) => r.id),
    ]);
    candidates.delete(ACCOUNT_CLIENT);
    const clientIds: string[] = [];
    for (const id of candidates) if ((await of(id)) === sector) clientIds.push(id);
    return { sector, clientIds };
  }

  router.post('/account/reset', form, async (ctx) => {
    const who = await action(ctx);
    if (!who?.clientId) return who && expired(ctx);
    const { sector, clientIds } = await sameVendor(who.clientId);
    // Told with the pseudonym it knew, before that pseudonym changes.
    await notifyLogout(deps, who.accountId, clientIds);
    await accounts.resetPseudonym(who.accountId, sector);
    // Tokens carrying the old pseudonym end with it, at every client that
    // shared it: otherwise one of them could link old and new.
    const ended = await patronData.endVendor(who.accountId, clientIds);
    deps.log.info(
      { event: 'privacy', action: 'reset-pseudonym', vendor: who.clientId, clients: clientIds.length, grants: ended },
      'privacy: pseudonym reset',
    );
    await setNotice(who, { id: 'reset', vendor: who.clientId });
    ctx.redirect('/account');
  });

  router.post('/account/withdraw', form, async (ctx) => {
    const who = await action(ctx);
    if (!who?.clientId) return who && expired(ctx);
    await consents.withdraw(who.accountId, who.clientId);
    await notifyLogout(deps, who.accountId, [who.clientId]);
    await patronData.endVendor(who.accountId, [who.clientId]);
    deps.log.info({ event: 'privacy', action: 'withdraw', vendor: who.clientId }, 'privacy: consent withdrawn');
    await setNotice(who, { id: 'withdraw', vendor: who.clientId });
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
