// Step 2: the patron posts the card + PIN form. Find the form's library,
// count the attempt (throttle) before the library's system is asked, ask it
// (login.ts), then send the patron on to the vendor or back to the form
// with a sentence that says what they can do.
import type { Context } from 'koa';
import type { Credentials } from '../../auth/authenticator.ts';
import { canonicalCard } from '../../auth/chain.ts';
import { CARD_MAX, type CredentialProblem, normaliseCredentials } from '../../auth/credentials.ts';
import type { Library } from '../../libraries/library.ts';
import { DEVICE_COOKIE, type DeviceCookies } from '../../security/device-cookie.ts';
import type { Throttle, Ticket } from '../../security/throttle.ts';
import type { Views } from '../../views.ts';
import { type SignInDeps, type SignInResult, signIn } from '../login.ts';
import { amrOf } from './amr.ts';
import type { RenderChooser } from './chooser-page.ts';
import type { Details, Flow } from './flow.ts';
import type { LibraryStep } from './library-step.ts';
import { faultOf, type RenderLogin } from './login-page.ts';

// What a sign-in needs beyond the page: the backends' results turned into an
// accountId (login.ts), and the counters that stand between a guesser and
// the library's system.
export interface SignInServices extends SignInDeps {
  throttle: Throttle;
  deviceCookies: DeviceCookies;
}

interface CardForm {
  // The library picked on the form (federations), if any.
  chosen: string | undefined;
  // Shown again on the form after a refusal; never the PIN.
  typed: string;
  // The card and PIN as backends see them, or what is wrong with them.
  normalised: { ok: true; credentials: Credentials } | { ok: false; problem: CredentialProblem };
  shared: boolean;
}

function cardForm(body: Record<string, unknown>): CardForm {
  return {
    chosen: typeof body.library === 'string' && body.library !== '' ? body.library : undefined,
    typed: typeof body.card === 'string' && body.card.length <= CARD_MAX ? body.card : '',
    normalised: normaliseCredentials(body.card, body.pin),
    shared: body.shared === 'yes',
  };
}

type Admission = { kind: 'admitted'; cardKey: string; ticket: Ticket } | { kind: 'refused' };

export function signInStep(deps: {
  flow: Flow;
  views: Views;
  library: LibraryStep;
  renderLogin: RenderLogin;
  renderChooser: RenderChooser;
  services: SignInServices;
}): (ctx: Context, d: Details) => Promise<void> {
  const { flow, views, library: libraryStep, renderLogin, renderChooser, services } = deps;
  const { throttle, deviceCookies, handles, log, metrics } = services;

  // Counted before the backend is asked, whatever else is in flight; one
  // counter per patron: the card as the library's system matches it. A
  // locked card or address gets its page here.
  async function admit(ctx: Context, d: Details, library: Library, form: CardForm, card: string): Promise<Admission> {
    const cardKey = handles.card(library.realm.id, canonicalCard(library.chain, card));
    const address = handles.address(ctx.state.clientAddress ?? ctx.ip);
    const device = deviceCookies.find(ctx.cookies.get(DEVICE_COOKIE), cardKey);
    const decision = await throttle.attempt({ card: cardKey, address, device });
    if (decision.kind === 'go') {
      if (decision.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
      return { kind: 'admitted', cardKey, ticket: decision.ticket };
    }
    // The library's system is not asked: a lockout here must never become a
    // lockout there.
    log.info(
      { event: 'login', outcome: 'throttled', scope: decision.scope, library: library.id, cardHash: cardKey },
      `login: throttled (${decision.scope})`,
    );
    metrics.logins.inc({ library: library.id, authenticator: '', outcome: 'throttled', reason: decision.scope });
    ctx.set('Retry-After', String(decision.retryAfter));
    const minutes = String(Math.max(1, Math.ceil(decision.retryAfter / 60)));
    await renderLogin(ctx, d, library, {
      error: views.t(ctx, `outcome.throttled.${decision.scope}`, { minutes }),
      card: form.typed,
      status: 429,
      shared: form.shared,
    });
    return { kind: 'refused' };
  }

  // Strictly necessary: lets this browser past a lock someone else put on
  // the patron's card (security/device-cookie.ts). Never on a shared computer.
  function rememberDevice(ctx: Context, cardKey: string): void {
    if (deviceCookies.maxAgeMs <= 0) return;
    // Unsigned by Koa: each token in it carries its own HMAC (device-cookie.ts).
    ctx.cookies.set(DEVICE_COOKIE, deviceCookies.issue(ctx.cookies.get(DEVICE_COOKIE), cardKey), {
      signed: false,
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      maxAge: deviceCookies.maxAgeMs,
      overwrite: true,
    });
  }

  // A refusal: a wrong PIN or an unknown card keeps its points; an outage, or
  // a card refused for its status after the right PIN, was no wrong guess.
  async function refuse(
    ctx: Context,
    d: Details,
    library: Library,
    form: CardForm,
    ticket: Ticket,
    result: Exclude<SignInResult, { kind: 'ok' }>,
  ): Promise<void> {
    if (result.kind === 'unavailable' || result.reason === 'blocked' || result.reason === 'expired') {
      await throttle.refund(ticket);
    }
    await renderLogin(ctx, d, library, {
      error: views.t(ctx, result.kind === 'denied' ? `outcome.${result.reason}` : 'outcome.unavailable'),
      fault: result.kind === 'denied' ? faultOf(result.reason) : undefined,
      card: form.typed,
      status: result.kind === 'unavailable' ? 503 : 200,
      shared: form.shared,
    });
  }

  return async function postCard(ctx, d) {
    const form = cardForm(flow.form(ctx, d, 'login'));
    const { normalised } = form;
    const placed = libraryStep.place(ctx, d, form.chosen, normalised.ok ? normalised.credentials.card : undefined);
    if (!placed) return;
    if (!normalised.ok) {
      return renderLogin(ctx, d, form.chosen ? placed.library : undefined, {
        error: views.t(ctx, `outcome.${normalised.problem}`),
        fault: faultOf(normalised.problem),
        card: form.typed,
      });
    }
    const { library } = placed;
    if (!library) return renderChooser(ctx, d, placed.candidates, '', views.t(ctx, 'outcome.no-library'));

    const { credentials } = normalised;
    const admission = await admit(ctx, d, library, form, credentials.card);
    if (admission.kind === 'refused') return;
    const vendor = String(d.params.client_id);
    const result = await signIn(services, library, credentials, vendor, admission.cardKey);
    if (result.kind !== 'ok') return refuse(ctx, d, library, form, admission.ticket, result);

    await throttle.succeeded(admission.ticket);
    if (!form.shared) {
      libraryStep.remember(ctx, library);
      rememberDevice(ctx, admission.cardKey);
    }
    // remember: false makes the session cookie a browser-session cookie.
    await flow.finish(ctx, { login: { accountId: result.accountId, amr: amrOf('pwd', form.shared), remember: false } });
  };
}
