// Reading a patron's expiry attribute. Pure; tested with tables.
// `never` is a value that means "does not expire"; `invalid` is a value we
// cannot read (the caller reports it to the sysadmin, naming only the
// attribute, never the value).

export type ExpiryFormat = 'generalizedTime' | 'date' | 'filetime';
export type Expiry = { at: number } | 'never' | 'invalid';

// RFC 4517 section 3.3.13: century year month day hour [minute [second]]
// [fraction] time-zone. The fraction belongs to the last unit given.
const GENERALIZED = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)$/;

function parseGeneralizedTime(value: string): Expiry {
  const m = GENERALIZED.exec(value);
  if (!m) return 'invalid';
  const [, y = '', mo = '', d = '', h = '', mi, s, fraction, zone = 'Z'] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return 'invalid';
  if (new Date(Date.UTC(Number(y), month - 1, day)).getUTCDate() !== day) return 'invalid';
  // A leap second (60) rolls over into the next minute, which is close enough.
  const base = Date.UTC(Number(y), month - 1, day, hour, minute, second);
  const unit = s !== undefined ? 1_000 : mi !== undefined ? 60_000 : 3_600_000;
  const frac = fraction === undefined ? 0 : Number(`0.${fraction}`) * unit;
  let offset = 0;
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const oh = Number(zone.slice(1, 3));
    const om = zone.length > 3 ? Number(zone.slice(3, 5)) : 0;
    if (oh > 23 || om > 59) return 'invalid';
    offset = sign * (oh * 60 + om) * 60_000;
  }
  // A local time east of UTC is earlier in UTC.
  return { at: base + frac - offset };
}

// A calendar date: the card is valid through the whole day (UTC), as in the
// patron file.
function parseDate(value: string): Expiry {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(value);
  if (!m) return 'invalid';
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const end = Date.UTC(y, mo - 1, d, 23, 59, 59, 999);
  if (mo < 1 || mo > 12 || new Date(end).getUTCDate() !== d) return 'invalid';
  return { at: end };
}

// Active Directory `accountExpires`: 100 ns intervals since 1601-01-01 UTC;
// 0 and 2^63-1 mean never.
const FILETIME_EPOCH_MS = 11_644_473_600_000n;
function parseFiletime(value: string): Expiry {
  if (!/^\d{1,19}$/.test(value)) return 'invalid';
  const ticks = BigInt(value);
  if (ticks === 0n || ticks >= 9_223_372_036_854_775_807n) return 'never';
  return { at: Number(ticks / 10_000n - FILETIME_EPOCH_MS) };
}

export function parseExpiry(value: string, format: ExpiryFormat): Expiry {
  const v = value.trim();
  switch (format) {
    case 'generalizedTime':
      return parseGeneralizedTime(v);
    case 'date':
      return parseDate(v);
    case 'filetime':
      return parseFiletime(v);
  }
}

export function isExpired(expiry: Expiry, now: number): boolean {
  return typeof expiry === 'object' && expiry.at <= now;
}
