// Expiry dates as ILSes write them in extension fields (PA, PX…). Each site
// configures the formats its server uses, written with the tokens YYYY MM DD
// HH mm ss and ZZZZ (the SIP2 zone: four blanks for local time, ending in
// `Z` for UTC, sometimes `0000`); any other character must match itself.

export const DEFAULT_DATE_FORMATS = ['YYYYMMDDZZZZHHmmss', 'YYYYMMDD', 'YYYY-MM-DD', 'MM/DD/YYYY'] as const;

const TOKENS = ['YYYY', 'ZZZZ', 'MM', 'DD', 'HH', 'mm', 'ss'] as const;
type Token = (typeof TOKENS)[number];

interface Compiled {
  regex: RegExp;
  order: Token[];
}

const cache = new Map<string, Compiled>();

function compile(format: string): Compiled {
  const hit = cache.get(format);
  if (hit) return hit;
  let source = '^';
  const order: Token[] = [];
  for (let i = 0; i < format.length; ) {
    const token = TOKENS.find((t) => format.startsWith(t, i));
    if (token) {
      source += token === 'YYYY' ? '(\\d{4})' : token === 'ZZZZ' ? '(.{4})' : '(\\d{2})';
      order.push(token);
      i += token.length;
    } else {
      source += (format[i] ?? '').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      i += 1;
    }
  }
  const compiled = { regex: new RegExp(`${source}$`), order };
  cache.set(format, compiled);
  return compiled;
}

// A usable format names a year, a month and a day, each once.
export function isDateFormat(format: string): boolean {
  const { order } = compile(format);
  return (
    (['YYYY', 'MM', 'DD'] as const).every((t) => order.filter((o) => o === t).length === 1) &&
    new Set(order).size === order.length
  );
}

// The instant a card stops being valid, or undefined if `value` matches none
// of `formats`. A date without a time is valid through the whole day.
export function parseExpiry(value: string, formats: readonly string[]): Date | undefined {
  for (const format of formats) {
    const { regex, order } = compile(format);
    const m = regex.exec(value);
    if (!m) continue;
    const part = (t: Token): string | undefined => {
      const i = order.indexOf(t);
      return i === -1 ? undefined : m[i + 1];
    };
    const year = Number(part('YYYY'));
    const month = Number(part('MM'));
    const day = Number(part('DD'));
    const hasTime = part('HH') !== undefined;
    const [h, min, s, ms] = hasTime
      ? [Number(part('HH')), Number(part('mm') ?? 0), Number(part('ss') ?? 0), 0]
      : [23, 59, 59, 999];
    if (month < 1 || month > 12 || day < 1 || day > 31 || h > 23 || min > 59 || s > 59) continue;
    const utc = (part('ZZZZ') ?? '').endsWith('Z');
    const date = utc
      ? new Date(Date.UTC(year, month - 1, day, h, min, s, ms))
      : new Date(year, month - 1, day, h, min, s, ms);
    // Reject 31 February and friends instead of rolling into March.
    if ((utc ? date.getUTCDate() : date.getDate()) !== day) continue;
    return date;
  }
  return undefined;
}
