// Statistics periods: UTC days and months. Nothing finer than a day is
// ever kept. Each period has its own hashing key (period-keys.ts), deleted
// when the period ends.

export type Granularity = 'day' | 'month';

export interface Period {
  granularity: Granularity;
  // "2026-12-01" or "2026-12"
  id: string;
  // Epoch ms, start inclusive, end exclusive.
  start: number;
  end: number;
}

export function periodOf(granularity: Granularity, at: number): Period {
  const d = new Date(at);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (granularity === 'month') {
    return { granularity, id: d.toISOString().slice(0, 7), start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
  }
  const day = d.getUTCDate();
  return { granularity, id: d.toISOString().slice(0, 10), start: Date.UTC(y, m, day), end: Date.UTC(y, m, day + 1) };
}

// "2026-12" or "2026-12-01" → the period it names; undefined if it names none.
export function parsePeriod(text: string): Period | undefined {
  const match = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(text);
  if (!match) return undefined;
  const [, y, m, d] = match;
  const at = Date.UTC(Number(y), Number(m) - 1, d === undefined ? 1 : Number(d));
  const period = periodOf(d === undefined ? 'month' : 'day', at);
  return period.id === text ? period : undefined;
}

// The months from `first` to `last` (both "YYYY-MM"), in order.
export function monthsBetween(first: string, last: string): string[] {
  const months: string[] = [];
  let period = parsePeriod(first);
  while (period && period.id <= last && months.length < 1200) {
    months.push(period.id);
    period = periodOf('month', period.end);
  }
  return months;
}
