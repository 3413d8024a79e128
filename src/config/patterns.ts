// Card-number patterns: a prefix ("21234") or an anchored regular expression
// ("/^2123[45]\d{9}$/"). Shared by the configuration checks and routing.

export function isRegexPattern(pattern: string): boolean {
  return pattern.startsWith('/');
}

export function patternProblem(pattern: string): string | undefined {
  if (!isRegexPattern(pattern)) return /^[\p{L}\p{N}]+$/u.test(pattern) ? undefined : 'a prefix of letters and digits';
  if (!/^\/\^.*\$\/$/.test(pattern)) return 'an anchored regular expression "/^...$/"';
  try {
    new RegExp(pattern.slice(1, -1), 'u');
  } catch {
    return 'a valid regular expression';
  }
  return undefined;
}

export function compilePattern(pattern: string): (card: string) => boolean {
  if (!isRegexPattern(pattern)) return (card) => card.startsWith(pattern);
  const regex = new RegExp(pattern.slice(1, -1), 'u');
  return (card) => regex.test(card);
}

// What every card a pattern matches starts with: the prefix itself, or the
// literal letters and digits an anchored expression opens with. Used to
// index patterns so the overlap check compares only patterns whose stems
// are prefixes of one another. Conservative: an alternation anywhere gives
// no stem, and a literal followed by a quantifier ("3?", "3*", "3{0,2}") is
// not part of it.
export function patternStem(pattern: string): string {
  if (!isRegexPattern(pattern)) return pattern;
  const body = pattern.replace(/^\/\^/, '').replace(/\$\/$/, '');
  if (body.includes('|')) return '';
  const run = /^[\p{L}\p{N}]*/u.exec(body)?.[0] ?? '';
  return /^[?*+{]/.test(body.slice(run.length)) ? run.slice(0, -1) : run;
}

// A card both patterns match, if one is found. Exact for two prefixes (the
// longer one). With a regular expression involved it cannot be decided in
// general, so we try sample cards built from each stem: it catches the
// overlaps sysadmins actually write.
export function overlapWitness(a: string, b: string): string | undefined {
  if (!isRegexPattern(a) && !isRegexPattern(b)) {
    if (a.startsWith(b)) return a;
    return b.startsWith(a) ? b : undefined;
  }
  const samples = new Set<string>();
  for (const stem of [patternStem(a), patternStem(b)]) {
    for (let length = 6; length <= 20; length++) {
      for (const fill of ['0', '1', '5', '9'])
        samples.add((stem + fill.repeat(length)).slice(0, Math.max(length, stem.length)));
    }
  }
  const [ma, mb] = [compilePattern(a), compilePattern(b)];
  for (const card of samples) if (ma(card) && mb(card)) return card;
  return a === b ? a : undefined;
}

export function patternsOverlap(a: string, b: string): boolean {
  return overlapWitness(a, b) !== undefined;
}
