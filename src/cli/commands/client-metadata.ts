// `patronym clients add|update` options → RFC 7591 client metadata: every
// field the vendor guide (docs/vendors.md) asks a vendor to send, each URL
// held to the rules a self-registering vendor meets at /reg. Pure.
import { PatronymError } from '../../errors.ts';
import { redirectUriProblem } from '../../policy/vendor-metadata.ts';

export interface ClientMetadataOptions {
  name?: string;
  redirectUri?: string[];
  postLogoutRedirectUri?: string[];
  backchannelLogoutUri?: string;
  // Older spelling of --backchannel-logout-uri, kept for scripts.
  logoutUri?: string;
  backchannelLogoutSessionRequired?: boolean;
  policyUri?: string;
  tosUri?: string;
  logoUri?: string;
  sectorIdentifierUri?: string;
  idTokenAlg?: string;
}

const ALGORITHMS = ['RS256', 'ES256'];

function checked(what: string, uri: string): string {
  const problem = redirectUriProblem(uri);
  if (problem) throw new PatronymError('usage', `clients: ${what} ${problem}`);
  return uri;
}

// Only what was given: `update` merges it into the stored registration.
export function clientMetadata(o: ClientMetadataOptions): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  if (o.name !== undefined) {
    if (o.name.trim() === '') throw new PatronymError('usage', 'clients: --name is empty');
    m.client_name = o.name;
  }
  if (o.redirectUri) m.redirect_uris = o.redirectUri.map((u) => checked('redirect URI', u));
  if (o.postLogoutRedirectUri)
    m.post_logout_redirect_uris = o.postLogoutRedirectUri.map((u) => checked('post-logout redirect URI', u));
  const backchannel = o.backchannelLogoutUri ?? o.logoutUri;
  if (backchannel !== undefined) m.backchannel_logout_uri = checked('back-channel logout URI', backchannel);
  if (o.backchannelLogoutSessionRequired !== undefined)
    m.backchannel_logout_session_required = o.backchannelLogoutSessionRequired;
  if (o.policyUri !== undefined) m.policy_uri = checked('policy URI', o.policyUri);
  if (o.tosUri !== undefined) m.tos_uri = checked('terms of service URI', o.tosUri);
  if (o.logoUri !== undefined) m.logo_uri = checked('logo URI', o.logoUri);
  if (o.sectorIdentifierUri !== undefined)
    m.sector_identifier_uri = checked('sector identifier URI', o.sectorIdentifierUri);
  if (o.idTokenAlg !== undefined) {
    if (!ALGORITHMS.includes(o.idTokenAlg))
      throw new PatronymError('usage', `clients: --id-token-alg: expected RS256 or ES256; found "${o.idTokenAlg}"`);
    m.id_token_signed_response_alg = o.idTokenAlg;
  }
  // OIDC Core 8.1: one sector, so redirect URIs on several hosts need a sector_identifier_uri.
  const uris = m.redirect_uris as string[] | undefined;
  if (uris && new Set(uris.map((u) => new URL(u).hostname)).size > 1 && !m.sector_identifier_uri)
    throw new PatronymError(
      'usage',
      'clients: the redirect URIs span several hosts; add --sector-identifier-uri listing them (OIDC Core 8.1)',
    );
  return m;
}
