// Which library is the patron signing in with? In order: the vendor's hint
// (`library=<id>` on the authorization request: an unknown id is an error,
// never a silent fallback), the patron's own choice on the chooser, the only
// library there is, or the library (or branches of one realm) whose card
// patterns match the card typed. Otherwise the patron chooses. Pure.
import type { Library } from './library.ts';

export type Route =
  | { kind: 'library'; library: Library; by: 'hint' | 'choice' | 'only' | 'card' }
  | { kind: 'unknown-hint'; hint: string }
  | { kind: 'undecided'; candidates: Library[] };

export interface RouteInput {
  hint?: string | undefined;
  choice?: string | undefined;
  card?: string | undefined;
}

export function route(libraries: ReadonlyMap<string, Library>, input: RouteInput): Route {
  if (input.hint !== undefined && input.hint !== '') {
    const library = libraries.get(input.hint);
    return library ? { kind: 'library', library, by: 'hint' } : { kind: 'unknown-hint', hint: input.hint };
  }
  const chosen = input.choice ? libraries.get(input.choice) : undefined;
  if (chosen) return { kind: 'library', library: chosen, by: 'choice' };
  const all = [...libraries.values()];
  if (all.length === 1) return { kind: 'library', library: all[0] as Library, by: 'only' };
  if (input.card !== undefined) {
    const matching = all.filter((l) => l.matchesCard(input.card as string));
    // Branches of one realm may share a card range: they share one patron
    // database, so the first in the configuration serves them all.
    const realms = new Set(matching.map((l) => l.realm.id));
    if (matching.length > 0 && realms.size === 1)
      return { kind: 'library', library: matching[0] as Library, by: 'card' };
    if (matching.length > 1) return { kind: 'undecided', candidates: matching };
  }
  return { kind: 'undecided', candidates: all };
}

// The chooser's search: name, short name, town and the system's name,
// ignoring case and accents.
export const fold = (text: string) => text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

// What the chooser needs of a library (the button kit lists them too).
export interface Listable {
  id: string;
  name: string;
  shortName?: string | undefined;
  town?: string | undefined;
  realm: { name?: string | undefined };
}

export function searchLibraries<L extends Listable>(libraries: readonly L[], query: string): L[] {
  const words = fold(query).split(/\s+/).filter(Boolean);
  const sorted = [...libraries].sort((a, b) => a.name.localeCompare(b.name));
  if (words.length === 0) return sorted;
  return sorted.filter((l) => {
    const haystack = fold([l.name, l.shortName ?? '', l.town ?? '', l.realm.name ?? ''].join(' '));
    return words.every((w) => haystack.includes(w));
  });
}
