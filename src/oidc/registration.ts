// Self-registration (RFC 7591) on Patronym's terms: an initial access token
// is good for as many registrations as the sysadmin said (`patronym clients
// token --uses N`, default one), counted atomically in the store; and what a
// vendor registers is checked against the library's rules.
import type { Middleware } from 'koa';
import { errors as oidcErrors } from 'oidc-provider';
import type { Library } from '../libraries/library.ts';
import type { Logger } from '../log.ts';
import { impersonatedLibrary, redirectUriProblem } from '../policy/vendor-metadata.ts';
import { storedId } from '../store/oidc-adapter.ts';
import type { Payload, Store } from '../store/store.ts';

const MODEL = 'InitialAccessToken';

// `uses`: how many registrations the token allows (absent: one, also for
// tokens issued before counting began); `used`: registrations that
// succeeded or are in flight.
const uses = (token: Payload) => (typeof token.uses === 'number' ? token.uses : 1);
const used = (token: Payload) => (typeof token.used === 'number' ? token.used : 0);

// A use is reserved before oidc-provider registers anything and given back
// if the registration fails, so 20 parallel registrations with a one-use
// token make exactly one vendor, and a vendor whose metadata was refused can
// correct it and try again with the same token.
export function initialAccessTokenUses(store: Store, log: Logger, registrationPath = '/reg'): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== registrationPath) return next();
    const value = /^bearer (\S+)$/i.exec(ctx.get('authorization'))?.[1];
    // No token, or an unknown one: oidc-provider answers (401).
    const id = value ? storedId(MODEL, value) : undefined;
    const token = id ? await store.find(MODEL, id) : undefined;
    const ttl = typeof token?.exp === 'number' ? token.exp - Math.floor(Date.now() / 1000) : 0;
    if (!id || !token || ttl <= 0) return next();

    const change = (delta: number) => (current: Payload | undefined) =>
      // Gone meanwhile (expired, revoked): a record that allows nothing.
      current ? { ...current, used: Math.max(0, used(current) + delta) } : { uses: 0, used: 0, exp: token.exp };
    const reserved = await store.update(MODEL, id, change(+1), ttl);
    if (used(reserved) > uses(reserved)) {
      await store.update(MODEL, id, change(-1), ttl);
      log.info({ event: 'registration_refused', reason: 'token_used' }, 'registration: initial access token used up');
      const error = new oidcErrors.InvalidToken('initial access token already used');
      ctx.status = error.statusCode;
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: error.error, error_description: error.error_description };
      return;
    }
    let registered = false;
    try {
      await next();
      registered = ctx.status === 201;
    } finally {
      if (!registered) await store.update(MODEL, id, change(-1), ttl);
    }
  };
}

// The library's rules for registered metadata (oidc-provider has checked
// the syntax): redirect URIs https (http on the loopback), no user
// information; no name that passes the vendor off as a library.
export function registrationProblem(
  metadata: Record<string, unknown>,
  libraries: Iterable<Library>,
): string | undefined {
  for (const key of ['redirect_uris', 'post_logout_redirect_uris'] as const) {
    const uris = metadata[key];
    if (!Array.isArray(uris)) continue;
    for (const uri of uris) {
      const problem = redirectUriProblem(String(uri));
      if (problem) return `${key}: ${problem}`;
    }
  }
  // (Translated names, client_name#fr, are dropped by oidc-provider as unrecognised.)
  const name = metadata.client_name;
  const library = typeof name === 'string' ? impersonatedLibrary(name, libraries) : undefined;
  if (library) return `client_name: "${name}" names the library "${library}"; a vendor registers under its own name`;
  return undefined;
}
