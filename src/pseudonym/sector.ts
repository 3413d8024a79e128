// OIDC Core 8.1: the sector identifier is the host component of the
// registered sector_identifier_uri or, without one, of the redirect URIs,
// which must then all share that host. Taken from the registration, never
// from the request. The host without the port: a vendor moving its callback
// from :8443 to :443 must not change every patron's pseudonym.
import { PatronymError } from '../errors.ts';

export interface SectorSource {
  sectorIdentifierUri?: string | undefined;
  redirectUris: readonly string[];
}

export function sectorOf(client: SectorSource): string {
  if (client.sectorIdentifierUri) return new URL(client.sectorIdentifierUri).hostname.toLowerCase();
  const hosts = new Set(client.redirectUris.map((uri) => new URL(uri).hostname.toLowerCase()));
  if (hosts.size !== 1) {
    throw new PatronymError(
      'sector_ambiguous',
      `pseudonym: redirect URIs span ${hosts.size} hosts (${[...hosts].join(', ')}); register a sector_identifier_uri`,
    );
  }
  return [...hosts][0] as string;
}
