// Which library is the patron signing in with? In order: the vendor's hint
// (`library=<id>` on the authorization request), the only library there is,
// or the one library whose card patterns match the card typed. Pure.
import type { Library } from './library.ts';

export type Route =
  | { kind: 'library'; library: Library }
  | { kind: 'unknown-hint'; hint: string }
  | { kind: 'undecided' };

export function matchesCard(pattern: string, card: string): boolean {
  if (pattern.startsWith('/') && pattern.endsWith('/')) return new RegExp(pattern.slice(1, -1)).test(card);
  return card.startsWith(pattern);
}

// Before the card is known (the GET of the sign-in page).
export function routeByHint(libraries: ReadonlyMap<string, Library>, hint: string | undefined): Route {
  if (hint !== undefined && hint !== '') {
    const library = libraries.get(hint);
    return library ? { kind: 'library', library } : { kind: 'unknown-hint', hint };
  }
  if (libraries.size === 1) return { kind: 'library', library: [...libraries.values()][0] as Library };
  return { kind: 'undecided' };
}

// Once the card is typed.
export function routeByCard(libraries: ReadonlyMap<string, Library>, hint: string | undefined, card: string): Route {
  const byHint = routeByHint(libraries, hint);
  if (byHint.kind !== 'undecided') return byHint;
  const matching = [...libraries.values()].filter((l) => l.cardPatterns.some((p) => matchesCard(p, card)));
  return matching.length === 1 ? { kind: 'library', library: matching[0] as Library } : { kind: 'undecided' };
}
