// Reads the statistics back: per library, vendor and day or month, the
// sign-ins and the estimated distinct patrons, with small counts
// suppressed. There is no per-patron view: the store holds none.
import type { Store } from '../store/store.ts';
import { deserialise, HyperLogLog } from './hyperloglog.ts';
import { type Granularity, monthsBetween, parsePeriod, periodOf } from './period.ts';
import { asDayRecord, type DayRecord, dayModel, flushStats } from './recorder.ts';

export interface StatsQuery {
  // First and last period included: "YYYY-MM" or "YYYY-MM-DD" (a month
  // covers its first or last day; month rows always cover whole months).
  since: string;
  until: string;
  granularity: Granularity;
  library?: string | undefined;
}

export interface StatsRow {
  library: string;
  vendor: string;
  period: string;
  signIns: number;
  patrons: number; // estimated, rounded
}

// "2026-12" → "2026-12-01" / "2026-12-31"; days stay as they are.
function firstDay(text: string): string | undefined {
  return parsePeriod(text)?.id.padEnd(10, '-01').slice(0, 10);
}
function lastDay(text: string): string | undefined {
  const period = parsePeriod(text);
  if (!period) return undefined;
  return period.granularity === 'day' ? period.id : periodOf('day', period.end - 1).id;
}

export async function readStats(store: Store, query: StatsQuery): Promise<StatsRow[]> {
  // This process's pending sign-ins first: a report includes every sign-in
  // counted before it was asked for.
  await flushStats();
  const from = firstDay(query.since);
  const to = lastDay(query.until);
  if (!from || !to) return [];
  const days: DayRecord[] = [];
  for (const month of monthsBetween(from.slice(0, 7), to.slice(0, 7))) {
    for (const { payload } of await store.list(dayModel(month))) {
      const record = asDayRecord(payload);
      if (!record || (query.library !== undefined && record.library !== query.library)) continue;
      if (query.granularity === 'day' && (record.day < from || record.day > to)) continue;
      days.push(record);
    }
  }
  const rows = new Map<string, { row: StatsRow; sketch: HyperLogLog }>();
  for (const record of days) {
    const period = query.granularity === 'day' ? record.day : record.day.slice(0, 7);
    const id = JSON.stringify([period, record.library, record.vendor]);
    let entry = rows.get(id);
    if (!entry) {
      entry = {
        row: { library: record.library, vendor: record.vendor, period, signIns: 0, patrons: 0 },
        sketch: new HyperLogLog(),
      };
      rows.set(id, entry);
    }
    entry.row.signIns += record.signIns;
    // A month merges its days' month-keyed sketches: one key, so a patron
    // seen on several days is one patron.
    entry.sketch.merge(deserialise(query.granularity === 'day' ? record.dayPatrons : record.monthPatrons));
  }
  return (
    [...rows.values()]
      // Never more patrons than sign-ins: the estimate's error cannot make
      // one patron two.
      .map(({ row, sketch }) => ({ ...row, patrons: Math.min(row.signIns, Math.round(sketch.estimate())) }))
      .sort(
        (a, b) =>
          a.period.localeCompare(b.period) || a.library.localeCompare(b.library) || a.vendor.localeCompare(b.vendor),
      )
  );
}

// A count as reported: the number, or "fewer than <threshold>".
export type Reported = number | string;

export function suppress(value: number, threshold: number): Reported {
  return value < threshold ? `fewer than ${threshold}` : value;
}
