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

// Could one card match both patterns? Exact for two prefixes. With a regular
// expression involved it cannot be decided in general, so we try sample
// cards built from each prefix and from the digits of each expression's
// literal start: it catches the overlaps sysadmins actually write.
export function patternsOverlap(a: string, b: string): boolean {
  if (!isRegexPattern(a) && !isRegexPattern(b)) return a.startsWith(b) || b.startsWith(a);
  if (a === b) return true;
  const samples = new Set<string>();
  for (const p of [a, b]) {
    const stem = isRegexPattern(p) ? (/^\/\^([\p{L}\p{N}]*)/u.exec(p)?.[1] ?? '') : p;
    for (let length = 6; length <= 20; length++) {
      for (const fill of ['0', '1', '5', '9'])
        samples.add((stem + fill.repeat(length)).slice(0, Math.max(length, stem.length)));
    }
  }
  const [ma, mb] = [compilePattern(a), compilePattern(b)];
  return [...samples].some((card) => ma(card) && mb(card));
}
