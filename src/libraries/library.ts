// A library (tenant) at run time: its configuration, its realm, and its
// authenticator chain, built once at start-up.
import type { Authenticator } from '../auth/authenticator.ts';
import type { Library as LibraryConfig, Realm } from '../config/load.ts';

export interface Library {
  id: string;
  name: string;
  realm: Realm;
  cardPatterns: readonly string[];
  chain: readonly Authenticator[];
}

export function buildLibraries(
  configs: readonly LibraryConfig[],
  realms: readonly Realm[],
  authenticatorFor: (library: LibraryConfig, index: number) => Authenticator,
): Map<string, Library> {
  const realmById = new Map(realms.map((r) => [r.id, r]));
  return new Map(
    configs.map((config) => {
      const realm = realmById.get(config.realm);
      if (!realm) throw new Error(`libraries: realm "${config.realm}" of "${config.id}" is not defined`);
      const chain = config.authenticators.map((_, i) => authenticatorFor(config, i));
      return [config.id, { id: config.id, name: config.name, realm, cardPatterns: config.cardPatterns, chain }];
    }),
  );
}
