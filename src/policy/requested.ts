// What a vendor asked for, read from an authorization request's (or an
// authorization code's) parameters: the release policy and the grants decide
// on these names, the release log records them.
import type { UnknownObject } from 'oidc-provider';

export interface GrantRequest {
  scopes: string[];
  // Claim names asked for through the claims parameter (OIDC Core 5.5).
  claims: string[];
}

export function requestOf(params: UnknownObject | undefined): GrantRequest {
  const scopes = String(params?.scope ?? '')
    .split(' ')
    .filter(Boolean);
  let claims: string[] = [];
  if (typeof params?.claims === 'string') {
    try {
      const parsed = JSON.parse(params.claims) as Record<string, Record<string, unknown> | null>;
      claims = [...new Set([...Object.keys(parsed?.id_token ?? {}), ...Object.keys(parsed?.userinfo ?? {})])];
    } catch {
      // oidc-provider has already refused a malformed claims parameter.
    }
  }
  return { scopes, claims };
}
