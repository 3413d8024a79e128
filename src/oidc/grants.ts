// What oidc-provider's Grant holds for a vendor: the scopes that release
// nothing (openid, offline_access), the releases the patron consented to, and
// — marked rejected so the patron is never asked about them — whatever the
// vendor asked for beyond its release policy.
import type { Grant } from 'oidc-provider';
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
