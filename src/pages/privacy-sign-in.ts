// Sign-in to the privacy page: the broker is its own first-party client
// (authorization code + PKCE, redeemed in-process), so the same sign-in
// page and the same authenticators check the card.
//
// The page always asks for card and PIN, also where a broker session is
// still open in the browser (a shared computer): the client has
// default_max_age 0, the request says prompt=login and max_age=0, and,
// since the browser can change the URL, the callback accepts only a code
// whose auth_time is no earlier than the start of this very sign-in.
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { default as Provider } from 'oidc-provider';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import { ACCOUNT_CLIENT } from '../oidc/account-client.ts';
import { S256 } from './privacy-session.ts';

const LOGIN_COOKIE = 'patronym_account_login';

export const privacyCookie = (ctx: Context) => ({
  httpOnly: true,
  sameSite: 'lax' as const,
  secure: ctx.secure,
  signed: true,
  overwrite: true,
});

export function startSignIn(ctx: Context, config: Config): void {
  const state = randomBytes(16).toString('base64url');
  const verifier = randomBytes(32).toString('base64url');
  // When the sign-in started (auth_time has a resolution of seconds).
  const started = Math.floor(Date.now() / 1000);
  ctx.cookies.set(LOGIN_COOKIE, `${state}.${verifier}.${started}`, {
    ...privacyCookie(ctx),
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
    prompt: 'login',
    max_age: '0',
  }).toString();
  ctx.redirect(url.href);
}

export type SignInOutcome = { kind: 'ok'; accountId: string } | { kind: 'denied' } | { kind: 'expired' };

// The callback: the same checks a token endpoint makes (client, redirect
// URI, PKCE, one-time use), and that the card was asked for now.
export async function finishSignIn(
  ctx: Context,
  deps: { config: Config; provider: Provider; log: Logger },
): Promise<SignInOutcome> {
  const [state, verifier, started] = (ctx.cookies.get(LOGIN_COOKIE, { signed: true }) ?? '').split('.');
  ctx.cookies.set(LOGIN_COOKIE, null, privacyCookie(ctx));
  if (ctx.query.error === 'access_denied') return { kind: 'denied' };
  const value = typeof ctx.query.code === 'string' ? ctx.query.code : '';
  if (!state || !verifier || !started || ctx.query.state !== state || !value) return { kind: 'expired' };
  const code = await deps.provider.AuthorizationCode.find(value);
  if (
    !code?.isValid ||
    code.clientId !== ACCOUNT_CLIENT ||
    code.redirectUri !== `${deps.config.issuer}/account/callback` ||
    code.codeChallenge !== S256(verifier) ||
    !code.accountId
  ) {
    return { kind: 'expired' };
  }
  try {
    await code.consume();
  } catch {
    return { kind: 'expired' }; // redeemed at the same moment elsewhere: a replay
  }
  // max_age=0 semantics, whatever prompt or max_age the URL was made to say.
  if (!(typeof code.authTime === 'number' && code.authTime >= Number(started))) {
    deps.log.warn(
      { event: 'privacy', action: 'stale-sign-in', authAge: Math.floor(Date.now() / 1000) - Number(code.authTime) },
      'privacy: sign-in to the privacy page refused: card and pin not asked for this sign-in',
    );
    return { kind: 'expired' };
  }
  return { kind: 'ok', accountId: code.accountId };
}
