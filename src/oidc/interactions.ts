// The patron's side of the flow: oidc-provider sends the browser to
// /interaction/:uid; we find the library (vendor hint, the patron's choice,
// the card number, or the chooser), show its card + PIN page, check the card
// against the library's authenticators and hand oidc-provider an accountId.
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import { type InteractionResults, errors as oidcErrors } from 'oidc-provider';
import { canonicalCard } from '../auth/chain.ts';
import { normaliseCredentials } from '../auth/credentials.ts';
import { brandingOf } from '../libraries/assets.ts';
import { chooserView } from '../libraries/chooser.ts';
import type { Library } from '../libraries/library.ts';
import { LIBRARY_COOKIE, LIBRARY_COOKIE_DAYS } from '../libraries/library-cookie.ts';
import { route } from '../libraries/route.ts';
import { walkInAccountId } from '../libraries/walk-in.ts';
import { DEVICE_COOKIE } from '../security/device-cookie.ts';
import { sendError, sendPage } from '../views.ts';
import { ACCOUNT_CLIENT } from './account-client.ts';
import { consentStep } from './consent-step.ts';
import { type Details, type InteractionDeps, SHARED_COMPUTER } from './interaction-step.ts';
import { signIn } from './login.ts';

// The field a sign-in problem is about: a wrong card or PIN cannot be told
// apart (on purpose), so both; a blocked card or an outage is no field's.
type Fault = 'card' | 'pin' | 'both';
const FAULTS: Record<string, Fault> = {
  'card-missing': 'card',
  'card-too-long': 'card',
  'pin-missing': 'pin',
  'pin-too-long': 'pin',
  'bad-credentials': 'both',
  'unknown-card': 'both',
};
export const faultOf = (problem: string): Fault | undefined => FAULTS[problem];

const hintOf = (details: Details): string | undefined =>
  typeof details.params.library === 'string' ? details.params.library : undefined;

export function interactionRoutes(deps: InteractionDeps): Router {
  const { provider, views, csrf, libraries, policies } = deps;
  const consent = consentStep(deps);
  const router = new Router();
  const federated = libraries.size > 1;
  // Small forms only: a card, a PIN, a library and a token. Anything bigger
  // is refused before it is read.
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' });

  async function details(ctx: Context): Promise<Details> {
    const found = await provider.interactionDetails(ctx.req, ctx.res);
    if (found.uid !== ctx.params.uid) throw new oidcErrors.SessionNotFound('interaction uid mismatch');
    // The vendor's ui_locales (OIDC Core 3.1.2.1); after a form post the
    // language switcher leads back to the interaction's own page.
    views.hint({
      uiLocales: found.params.ui_locales,
      ...(ctx.method === 'GET' ? {} : { here: `/interaction/${found.uid}` }),
    });
    return found;
  }

  async function vendorName(d: Details): Promise<string | undefined> {
    // The broker's own privacy page is named in the patron's language.
    if (d.params.client_id === ACCOUNT_CLIENT) return views.t('account.client');
    const client = await provider.Client.find(String(d.params.client_id));
    return client?.clientName ?? client?.clientId;
  }

  function remember(ctx: Context, library: Library): void {
    if (!federated) return;
    ctx.cookies.set(LIBRARY_COOKIE, library.id, {
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      maxAge: LIBRARY_COOKIE_DAYS * 24 * 3600 * 1000,
      overwrite: true,
    });
  }

  // Strictly necessary: lets this browser past a lock someone else put on
  // the patron's card (security/device-cookie.ts). Never on a shared computer.
  function rememberDevice(ctx: Context, cardKey: string): void {
    const { deviceCookies } = deps;
    if (deviceCookies.maxAgeMs <= 0) return;
    ctx.cookies.set(DEVICE_COOKIE, deviceCookies.issue(ctx.cookies.get(DEVICE_COOKIE), cardKey), {
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      maxAge: deviceCookies.maxAgeMs,
      overwrite: true,
    });
  }

  function remembered(ctx: Context): string | undefined {
    const id = ctx.cookies.get(LIBRARY_COOKIE);
    return id && libraries.has(id) ? id : undefined;
  }

  async function renderLogin(
    ctx: Context,
    d: Details,
    library: Library | undefined,
    extra: { error?: string; fault?: Fault; card?: string; status?: number; shared?: boolean } = {},
  ): Promise<void> {
    if (library) views.hint({ library });
    const walkIn = await walkInOffer(ctx, d, library);
    sendPage(
      ctx,
      views,
      'login',
      {
        walkIn: walkIn
          ? { action: `/interaction/${d.uid}/walk-in`, csrf: csrf.token('walk-in', d.uid), library: walkIn.id }
          : undefined,
        title: views.t('login.title'),
        branding: library ? brandingOf(library) : undefined,
        libraryId: library?.id,
        vendor: await vendorName(d),
        action: `/interaction/${d.uid}/login`,
        abort: `/interaction/${d.uid}/abort`,
        chooseUrl: federated && !hintOf(d) ? `/interaction/${d.uid}/libraries` : undefined,
        csrf: csrf.token('login', d.uid),
        error: extra.error,
        errorCount: extra.error ? 1 : 0,
        // Which field the error is about (aria-invalid, focus); none for a
        // card refused for its status or a system that did not answer.
        fault: extra.fault,
        cardInput: library?.cardInput ?? 'text',
        pinInput: library?.pinInput ?? 'text',
        card: extra.card,
        shared: extra.shared,
      },
      extra.status ?? 200,
    );
  }

  // "Continue without signing in", only inside a library's buildings and
  // only for vendors whose policy allows walk-in access.
  async function walkInOffer(ctx: Context, d: Details, shown: Library | undefined): Promise<Library | undefined> {
    if (!(await policies.get(String(d.params.client_id))).walkIn) return undefined;
    const ip = ctx.state.clientAddress ?? ctx.ip;
    if (shown) return shown.isWalkIn(ip) ? shown : undefined;
    const inside = [...libraries.values()].filter((l) => l.isWalkIn(ip));
    return inside.length === 1 ? inside[0] : undefined;
  }

  function renderChooser(ctx: Context, d: Details, candidates: Library[], query: string, error?: string): void {
    const action = `/interaction/${d.uid}/libraries`;
    const letter = typeof ctx.query.letter === 'string' ? ctx.query.letter : undefined;
    const view = chooserView(candidates, {
      query,
      letter,
      page: Number(ctx.query.page) || 1,
      searchFirst: error !== undefined,
    });
    const link = (params: Record<string, string | undefined>) => {
      const search = new URLSearchParams(
        Object.entries({ q: query || undefined, ...params }).filter((e): e is [string, string] => e[1] !== undefined),
      ).toString();
      return search ? `${action}?${search}` : action;
    };
    sendPage(ctx, views, 'chooser', {
      title: views.t('chooser.title'),
      action,
      abort: `/interaction/${d.uid}/abort`,
      query,
      error,
      errorCount: error ? 1 : 0,
      total: view.total,
      letters: view.letters.map((l) => ({ letter: l, href: link({ letter: l }), current: l === view.letter })),
      groups: view.groups.map((g) => ({
        system: g.system,
        libraries: g.libraries.map((l) => ({
          name: l.name,
          town: l.town,
          href: `/interaction/${d.uid}?library=${encodeURIComponent(l.id)}`,
        })),
      })),
      page: view.page,
      pages: view.pages,
      previous: view.page > 1 ? link({ letter: view.letter, page: String(view.page - 1) }) : undefined,
      next: view.page < view.pages ? link({ letter: view.letter, page: String(view.page + 1) }) : undefined,
    });
  }

  function unknownLibrary(ctx: Context): void {
    sendError(ctx, views, 400, 'error.unknown-library', 'unknown_library');
  }

  async function finish(ctx: Context, result: InteractionResults): Promise<void> {
    const target = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(target);
  }

  router.get('/interaction/:uid', async (ctx) => {
    const d = await details(ctx);
    if (d.prompt.name === 'consent') return consent.show(ctx, d, finish);

    const picked = typeof ctx.query.library === 'string' ? ctx.query.library : undefined;
    if (picked !== undefined && !libraries.has(picked)) return unknownLibrary(ctx);
    const r = route(libraries, { hint: hintOf(d), choice: picked ?? remembered(ctx) });
    if (r.kind === 'unknown-hint') return unknownLibrary(ctx);
    if (r.kind === 'library') {
      if (r.by === 'choice' && picked) remember(ctx, r.library);
      return renderLogin(ctx, d, r.library);
    }
    // Undecided: if card numbers can tell libraries apart, ask for the card
    // first; otherwise the patron chooses.
    if ([...libraries.values()].some((l) => l.hasCardPatterns)) return renderLogin(ctx, d, undefined);
    renderChooser(ctx, d, r.candidates, '');
  });

  router.get('/interaction/:uid/libraries', async (ctx) => {
    const d = await details(ctx);
    if (hintOf(d)) {
      // The vendor named the library: there is nothing to choose.
      ctx.redirect(`/interaction/${d.uid}`);
      return;
    }
    const query = typeof ctx.query.q === 'string' ? ctx.query.q.slice(0, 100) : '';
    renderChooser(ctx, d, [...libraries.values()], query);
  });

  router.post('/interaction/:uid/login', form, async (ctx) => {
    const d = await details(ctx);
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (d.prompt.name !== 'login' || !csrf.verify('login', d.uid, body.csrf)) {
      throw new oidcErrors.SessionNotFound('login form does not belong to this interaction');
    }
    const chosen = typeof body.library === 'string' && body.library !== '' ? body.library : undefined;
    if (chosen !== undefined && !libraries.has(chosen)) return unknownLibrary(ctx);
    const typedCard = typeof body.card === 'string' && body.card.length <= 64 ? body.card : '';
    const normalised = normaliseCredentials(body.card, body.pin);
    const r = route(libraries, {
      hint: hintOf(d),
      choice: chosen,
      card: normalised.ok ? normalised.credentials.card : undefined,
    });
    if (r.kind === 'unknown-hint') return unknownLibrary(ctx);
    const library = r.kind === 'library' ? r.library : undefined;
    // Sentences below are in this library's language where it decides.
    if (library) views.hint({ library });
    if (!normalised.ok) {
      return renderLogin(ctx, d, chosen ? library : undefined, {
        error: views.t(`outcome.${normalised.problem}`),
        fault: faultOf(normalised.problem),
        card: typedCard,
      });
    }
    if (!library) {
      return renderChooser(ctx, d, r.kind === 'undecided' ? r.candidates : [], '', views.t('outcome.no-library'));
    }
    const shared = body.shared === 'yes';
    const { card } = normalised.credentials;
    // One counter per patron: the card as the library's system matches it.
    const cardKey = deps.handles.card(library.realm.id, canonicalCard(library.chain, card));
    const addressKey = deps.handles.address(ctx.state.clientAddress ?? ctx.ip);
    const device = deps.deviceCookies.find(ctx.cookies.get(DEVICE_COOKIE), cardKey);
    // Counted before the backend is asked, whatever else is in flight.
    const decision = await deps.throttle.attempt({ card: cardKey, address: addressKey, device });
    if (decision.kind === 'locked') {
      // The library's system is not asked: a lockout here must never become
      // a lockout there.
      deps.log.info(
        { event: 'login', outcome: 'throttled', scope: decision.scope, library: library.id, cardHash: cardKey },
        `login: throttled (${decision.scope})`,
      );
      deps.metrics.logins.inc({ library: library.id, authenticator: '', outcome: 'throttled', reason: decision.scope });
      ctx.set('Retry-After', String(decision.retryAfter));
      const minutes = String(Math.max(1, Math.ceil(decision.retryAfter / 60)));
      return renderLogin(ctx, d, library, {
        error: views.t(`outcome.throttled.${decision.scope}`, { minutes }),
        card: typedCard,
        status: 429,
        shared,
      });
    }
    if (decision.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
    const result = await signIn(deps, library, normalised.credentials, String(d.params.client_id), cardKey);
    if (result.kind === 'ok') {
      await deps.throttle.succeeded(decision.ticket);
      if (!shared) {
        remember(ctx, library);
        rememberDevice(ctx, cardKey);
      }
      // remember: false makes the session cookie a browser-session cookie.
      await finish(ctx, {
        login: { accountId: result.accountId, amr: shared ? ['pwd', SHARED_COMPUTER] : ['pwd'], remember: false },
      });
      return;
    }
    // A wrong PIN or an unknown card keeps its points; an outage, or a card
    // refused for its status after the right PIN, was no wrong guess.
    if (result.kind === 'unavailable' || result.reason === 'blocked' || result.reason === 'expired') {
      await deps.throttle.refund(decision.ticket);
    }
    const key = result.kind === 'denied' ? `outcome.${result.reason}` : 'outcome.unavailable';
    await renderLogin(ctx, d, library, {
      error: views.t(key),
      fault: result.kind === 'denied' ? faultOf(result.reason) : undefined,
      card: typedCard,
      status: result.kind === 'unavailable' ? 503 : 200,
      shared,
    });
  });

  router.post('/interaction/:uid/consent', form, async (ctx) => {
    const d = await details(ctx);
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (d.prompt.name !== 'consent' || !d.session?.accountId || !csrf.verify('consent', d.uid, body.csrf)) {
      throw new oidcErrors.SessionNotFound('consent form does not belong to this interaction');
    }
    await consent.decide(ctx, d, body.decision === 'allow', finish);
  });

  router.post('/interaction/:uid/walk-in', form, async (ctx) => {
    const d = await details(ctx);
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (d.prompt.name !== 'login' || !csrf.verify('walk-in', d.uid, body.csrf)) {
      throw new oidcErrors.SessionNotFound('walk-in form does not belong to this interaction');
    }
    const shown = typeof body.library === 'string' ? libraries.get(body.library) : undefined;
    const library = await walkInOffer(ctx, d, shown);
    if (!library) {
      // Outside the building (or a vendor without walk-in): the sign-in form.
      return renderLogin(ctx, d, shown, { error: views.t('outcome.bad-form'), status: 403 });
    }
    deps.log.info(
      { event: 'login', outcome: 'walk-in', library: library.id, vendor: String(d.params.client_id) },
      'login: walk-in',
    );
    await finish(ctx, {
      login: { accountId: walkInAccountId(library.id), amr: ['none', SHARED_COMPUTER], remember: false },
    });
  });

  router.get('/interaction/:uid/abort', async (ctx) => {
    await details(ctx);
    await finish(ctx, { error: 'access_denied', error_description: 'the patron cancelled the sign-in' });
  });

  return router;
}
