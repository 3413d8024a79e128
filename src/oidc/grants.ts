// What oidc-provider's Grant holds for a vendor: the scopes that release
// nothing (openid, offline_access), the releases the patron consented to, and
// — marked rejected so the patron is never asked about them — whatever the
// vendor asked for beyond its release policy.
import type { Grant } from 'oidc-provider';
import type { Config } from '../config/config.ts';
import { CLAIMS, RELEASABLE, type Releasable, requestedReleases } from '../policy/release.ts';
import type { GrantRequest } from '../policy/requested.ts';

export const IMPLICIT_SCOPES = ['openid', 'offline_access'] as const;

// The releases a request asks for, limited to the vendor's policy.
export function wanted(request: GrantRequest, policy: readonly Releasable[]): Releasable[] {
  return requestedReleases(policy, request.scopes, request.claims);
}

export function applyToGrant(
  grant: Grant,
  request: GrantRequest,
  policy: readonly Releasable[],
  allowed: readonly Releasable[],
): void {
  grant.addOIDCScope(IMPLICIT_SCOPES.filter((s) => request.scopes.includes(s)));
  for (const item of RELEASABLE) {
    const scopeAsked = request.scopes.includes(item);
    const claimsAsked = CLAIMS[item].filter((c) => request.claims.includes(c));
    if (!scopeAsked && claimsAsked.length === 0) continue;
    if (policy.includes(item)) {
      if (!allowed.includes(item)) continue; // the patron is asked
      if (scopeAsked) grant.addOIDCScope(item);
      if (claimsAsked.length > 0) grant.addOIDCClaims(claimsAsked);
    } else {
      if (scopeAsked) grant.rejectOIDCScope(item);
      if (claimsAsked.length > 0) grant.rejectOIDCClaims(claimsAsked);
    }
  }
}

type Lifetimes = Pick<
  Config['ttl'],
  'session' | 'sharedSession' | 'accessToken' | 'idToken' | 'authorizationCode' | 'refreshToken' | 'grant'
>;

// How long a grant must live, in seconds, counted from now. Only its session
// (`session.grantIdFor`) and the tokens issued from it reach a grant, and
// consent memory lives elsewhere (policy/consent.ts): a grant kept longer is
// dead weight in the store (issue 18). Tokens are issued while the session
// lives, so the last use is the session's end plus the longest token issued
// just before it. Refresh tokens reach a grant for as long as they last,
// and rotated ones start a fresh `refreshToken` each time, so a grant with
// offline_access keeps the longer of that and `grant` (the lifetime every
// grant had before) — a refresh chain still ends when its grant does.
export function grantLifetime(ttl: Lifetimes, grant: Grant): number {
  if (grant.getOIDCScope().split(' ').includes('offline_access')) return Math.max(ttl.refreshToken, ttl.grant);
  const session = Math.max(ttl.session, ttl.sharedSession);
  return Math.min(ttl.grant, session + Math.max(ttl.accessToken, ttl.idToken, ttl.authorizationCode));
}

// A grant made short in a session (no offline_access) and reused there for a
// request that adds offline_access: oidc-provider fixes `exp` at the first
// save, so without this the refresh tokens would outlive their grant.
export function lengthen(grant: Grant, ttl: Lifetimes, now = Math.floor(Date.now() / 1000)): void {
  if (grant.exp === undefined) return; // not saved yet: the ttl function decides
  const wanted = now + grantLifetime(ttl, grant);
  if (grant.exp < wanted) grant.exp = wanted;
}
