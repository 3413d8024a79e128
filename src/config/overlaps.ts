// A card that two realms could claim would get two different accountIds
// depending on which library page the patron used, so card patterns of
// libraries in different realms must not overlap. A state-wide consortium
// has a thousand libraries: comparing every pair took seconds at start-up
// and at every reload. Patterns are indexed by their stem (what every card
// they match starts with); two patterns can only overlap when one stem is a
// prefix of the other, so each pattern is compared with the patterns under
// its own stem's prefixes only. Patterns without a stem (an expression such
// as "/^\d{14}$/") fall back to being compared with every other pattern.
import { isRegexPattern, overlapWitness, patternProblem, patternStem } from './patterns.ts';

export interface PatternOwner {
  id: string;
  realm: string;
  cardPatterns: readonly string[];
}

interface Entry {
  seq: number;
  library: number;
  pattern: string;
  stem: string;
}

interface Overlap {
  a: Entry;
  b: Entry;
  witness: string;
}

function candidates(entries: readonly Entry[]): Array<[Entry, Entry]> {
  const byStem = new Map<string, Entry[]>();
  for (const e of entries) {
    const bucket = byStem.get(e.stem);
    if (bucket) bucket.push(e);
    else byStem.set(e.stem, [e]);
  }
  const pairs: Array<[Entry, Entry]> = [];
  for (const e of entries) {
    // Shorter stems that are prefixes of this one (the empty stem included),
    // then the same stem, each pair once.
    for (let k = 0; k <= e.stem.length; k++) {
      for (const other of byStem.get(e.stem.slice(0, k)) ?? []) {
        if (k === e.stem.length && other.seq >= e.seq) continue;
        pairs.push(other.seq < e.seq ? [other, e] : [e, other]);
      }
    }
  }
  return pairs;
}

// One problem per pair of realms, naming the first pair of libraries (in the
// order of the configuration) and how many more there are: one mistake in a
// system of twenty branches is one line, not twenty.
export function overlapProblems(libraries: readonly PatternOwner[]): string[] {
  const entries: Entry[] = [];
  libraries.forEach((library, i) => {
    for (const pattern of library.cardPatterns) {
      if (patternProblem(pattern)) continue; // reported on its own
      entries.push({ seq: entries.length, library: i, pattern, stem: patternStem(pattern) });
    }
  });
  const realmOf = (e: Entry) => (libraries[e.library] as PatternOwner).realm;
  const byRealms = new Map<string, Overlap[]>();
  for (const [a, b] of candidates(entries)) {
    if (realmOf(a) === realmOf(b)) continue;
    const witness = overlapWitness(a.pattern, b.pattern);
    if (witness === undefined) continue;
    const key = [realmOf(a), realmOf(b)].sort().join('\u0000');
    const list = byRealms.get(key);
    if (list) list.push({ a, b, witness });
    else byRealms.set(key, [{ a, b, witness }]);
  }
  const problems: Array<{ order: number; text: string }> = [];
  for (const overlaps of byRealms.values()) {
    overlaps.sort((x, y) => x.a.seq - y.a.seq || x.b.seq - y.b.seq);
    const { a, b, witness } = overlaps[0] as Overlap;
    const [la, lb] = [libraries[a.library], libraries[b.library]] as [PatternOwner, PatternOwner];
    const pairsOfLibraries = new Set(overlaps.map((o) => `${o.a.library}:${o.b.library}`)).size;
    const range = isRegexPattern(a.pattern) || isRegexPattern(b.pattern) ? 'cards such as' : 'cards starting';
    const n = pairsOfLibraries - 1;
    const more = n > 0 ? `; and ${n} more pair${n === 1 ? '' : 's'} of libraries in these two realms` : '';
    problems.push({
      order: a.seq,
      text:
        `libraries[${a.library}].cardPatterns: ${JSON.stringify(a.pattern)} of library "${la.id}" (realm "${la.realm}") ` +
        `overlaps ${JSON.stringify(b.pattern)} of library "${lb.id}" (realm "${lb.realm}"): ${range} ` +
        `${JSON.stringify(witness)} could belong to either realm${more}`,
    });
  }
  return problems.sort((x, y) => x.order - y.order).map((p) => p.text);
}
