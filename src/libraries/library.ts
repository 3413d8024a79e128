// A library (tenant) at run time: its configuration, its realm, and its
// authenticator chain. Authenticators shared by several libraries (branches
// on one ILS) are one instance, so they share one connection pool.

import { BlockList, isIPv6 } from 'node:net';
import type { Authenticator } from '../auth/authenticator.ts';
import type { Library as LibraryConfig, Realm, ResolvedAuthenticator } from '../config/config.ts';
import { compilePattern, isRegexPattern } from '../config/patterns.ts';
import { PatronymError } from '../errors.ts';

export function addressRanges(ranges: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const range of ranges) {
    const [address, prefix] = range.split('/') as [string, string];
    list.addSubnet(address, Number(prefix), isIPv6(address) ? 'ipv6' : 'ipv4');
  }
  return (ip) => {
    const plain = ip.replace(/^::ffff:/, '');
    return ranges.length > 0 && list.check(plain, isIPv6(plain) ? 'ipv6' : 'ipv4');
  };
}

export interface Library {
  id: string;
  name: string;
  shortName?: string | undefined;
  town?: string | undefined;
  logo?: string | undefined;
  colours?: LibraryConfig['colours'];
  // The patron pages' language default and wording (src/views.ts).
  language?: LibraryConfig['language'];
  messages?: LibraryConfig['messages'];
  help?: LibraryConfig['help'];
  // Phone keyboards for the card and PIN fields.
  cardInput: 'numeric' | 'text';
  pinInput: 'numeric' | 'text';
  realm: Realm;
  // Affiliation scope (member@scope).
  scope: string;
  retention: { releaseLog: number; consent: number };
  // Is this client address inside one of the library's buildings?
  isWalkIn(ip: string): boolean;
  matchesCard(card: string): boolean;
  hasCardPatterns: boolean;
  chain: readonly Authenticator[];
}

// Cards that are numbers get a number pad: every pattern a prefix of digits
// (libraries that write prefixes number their cards) or an expression of
// digits, [0-9], \d, quantifiers and groups. No patterns: we cannot tell.
export function allDigits(patterns: readonly string[]): boolean {
  const digitsOnly = /^\/\^(?:[0-9]|\[0-9\]|\\d|\{\d+(?:,\d*)?\}|[?*+()|])*\$\/$/;
  return patterns.length > 0 && patterns.every((p) => (isRegexPattern(p) ? digitsOnly.test(p) : /^[0-9]+$/.test(p)));
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
      if (!realm)
        throw new PatronymError('realm_unknown', `libraries: realm "${config.realm}" of "${config.id}" is not defined`);
      const matchers = config.cardPatterns.map(compilePattern);
      const walkIn = addressRanges(config.walkIn?.ranges ?? []);
      return [
        config.id,
        {
          id: config.id,
          name: config.name,
          shortName: config.shortName,
          town: config.town,
          logo: config.logo,
          colours: config.colours,
          language: config.language,
          messages: config.messages,
          help: config.help,
          cardInput: config.cardInput ?? (allDigits(config.cardPatterns) ? 'numeric' : 'text'),
          pinInput: config.pinInput,
          realm,
          scope: config.scope,
          retention: config.retention,
          isWalkIn: walkIn,
          matchesCard: (card) => matchers.some((m) => m(card)),
          hasCardPatterns: matchers.length > 0,
          chain: config.authenticators.map(instance),
        },
      ];
    }),
  );
  return { libraries, authenticators: [...instances.values()] };
}

// For log lines: how many libraries and realms, never the list.
export function libraryCounts(libraries: ReadonlyMap<string, Library>): { libraries: number; realms: number } {
  return { libraries: libraries.size, realms: new Set([...libraries.values()].map((l) => l.realm.id)).size };
}
