// The release policy: what a vendor may learn beyond its pseudonym. A closed
// vocabulary modelled on the REFEDS Pseudonymous Access bundle, deny by
// default, and never more than the sysadmin allowed whatever the vendor asks.
// Pure.

export const RELEASABLE = ['library', 'affiliation', 'entitlement'] as const;
export type Releasable = (typeof RELEASABLE)[number];

// Claim names as the REFEDS OIDC registry (OIDCre) spells them, so stock
// vendor software already knows them; `library` is Patronym's own.
export const CLAIMS: Record<Releasable, readonly string[]> = {
  library: ['library'],
  affiliation: ['eduperson_scoped_affiliation'],
  entitlement: ['eduperson_entitlement'],
};

const ENTITLEMENT = 'urn:mace:dir:entitlement:common-lib-terms';

export interface LibraryFacts {
  id: string;
  name: string;
  // The library's home domain (its affiliation scope).
  scope: string;
}

// What the vendor asked for, through scopes or the claims parameter, that
// its policy allows; in vocabulary order.
export function requestedReleases(
  policy: readonly Releasable[],
  scopes: Iterable<string>,
  claims: Iterable<string> = [],
): Releasable[] {
  const asked = new Set([...scopes, ...claims]);
  return RELEASABLE.filter(
    (item) => policy.includes(item) && (asked.has(item) || CLAIMS[item].some((c) => asked.has(c))),
  );
}

// The claim values a vendor receives for the given releases.
export function claimValues(
  releases: readonly Releasable[],
  library: LibraryFacts,
  kind: 'member' | 'walk-in' = 'member',
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (releases.includes('library')) out.library = { id: library.id, name: library.name, domain: library.scope };
  if (releases.includes('affiliation')) {
    out.eduperson_scoped_affiliation = [`${kind === 'walk-in' ? 'library-walk-in' : 'member'}@${library.scope}`];
  }
  // A walk-in visitor is covered by the library's licence too: that is what
  // walk-in access means.
  if (releases.includes('entitlement')) out.eduperson_entitlement = [ENTITLEMENT];
  return out;
}
