// A library (tenant) at run time: its configuration, its realm, and its
// authenticator chain. Authenticators shared by several libraries (branches
// on one ILS) are one instance, so they share one connection pool.
import type { Authenticator } from '../auth/authenticator.ts';
import type { Library as LibraryConfig, Realm, ResolvedAuthenticator } from '../config/load.ts';
import { compilePattern } from '../config/patterns.ts';

export interface Library {
  id: string;
  name: string;
  shortName?: string | undefined;
  town?: string | undefined;
  logo?: string | undefined;
  colours?: { accent: string; accentText: string } | undefined;
  realm: Realm;
  // Affiliation scope (member@scope).
  scope: string;
  matchesCard(card: string): boolean;
  hasCardPatterns: boolean;
  chain: readonly Authenticator[];
}

export function buildLibraries(
  configs: readonly LibraryConfig[],
  realms: readonly Realm[],
  create: (entry: ResolvedAuthenticator) => Authenticator,
): { libraries: Map<string, Library>; authenticators: Authenticator[] } {
  const realmById = new Map(realms.map((r) => [r.id, r]));
  const instances = new Map<string, Authenticator>();
  const instance = (entry: ResolvedAuthenticator) => {
    let a = instances.get(entry.id);
    if (!a) {
      a = create(entry);
      instances.set(entry.id, a);
    }
    return a;
  };
  const libraries = new Map(
    configs.map((config): [string, Library] => {
      const realm = realmById.get(config.realm);
      if (!realm) throw new Error(`libraries: realm "${config.realm}" of "${config.id}" is not defined`);
      const matchers = config.cardPatterns.map(compilePattern);
      return [
        config.id,
        {
          id: config.id,
          name: config.name,
          shortName: config.shortName,
          town: config.town,
          logo: config.logo,
          colours: config.colours,
          realm,
          scope: config.scope,
          matchesCard: (card) => matchers.some((m) => m(card)),
          hasCardPatterns: matchers.length > 0,
          chain: config.authenticators.map(instance),
        },
      ];
    }),
  );
  return { libraries, authenticators: [...instances.values()] };
}
