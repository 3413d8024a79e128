// The report in a shape close to COUNTER Release 5 (the Platform Report's
// long form, and the COUNTER_SUSHI JSON layout), so librarians can put it
// beside the vendors' own reports: one row per library, platform (vendor),
// period and metric. Sign_Ins plays the part of Total_Item_Requests;
// Distinct_Patrons_Estimated is a HyperLogLog estimate. Counts below the
// threshold read "fewer than N" in both formats.
import { STANDARD_ERROR } from './hyperloglog.ts';
import type { Granularity } from './period.ts';
import { type Reported, type StatsRow, suppress } from './report.ts';

const REPORT_ID = 'PATRONYM_SIGN_INS';
export const METRICS = ['Sign_Ins', 'Distinct_Patrons_Estimated'] as const;

export interface ReportContext {
  created: Date;
  since: string;
  until: string;
  granularity: Granularity;
  threshold: number;
  // id → display name; unknown ids are shown as themselves.
  libraries: ReadonlyMap<string, string>;
  vendors: ReadonlyMap<string, string>;
}

export interface ReportLine {
  library: string;
  libraryId: string;
  platform: string;
  vendorId: string;
  period: string;
  metric: (typeof METRICS)[number];
  count: Reported;
}

export function reportLines(rows: readonly StatsRow[], context: ReportContext): ReportLine[] {
  return rows.flatMap((row) => {
    const base = {
      library: context.libraries.get(row.library) ?? row.library,
      libraryId: row.library,
      platform: context.vendors.get(row.vendor) ?? row.vendor,
      vendorId: row.vendor,
      period: row.period,
    };
    return [
      { ...base, metric: METRICS[0], count: suppress(row.signIns, context.threshold) },
      { ...base, metric: METRICS[1], count: suppress(row.patrons, context.threshold) },
    ];
  });
}

function notes(context: ReportContext): string {
  return (
    `Distinct patrons are estimated (HyperLogLog, standard error ${(STANDARD_ERROR * 100).toFixed(1)} %) ` +
    `from keyed hashes whose key changes every ${context.granularity} and is deleted when it ends; ` +
    `counts below ${context.threshold} read "fewer than ${context.threshold}"; times are UTC.`
  );
}

// RFC 4180: quoted when needed, CRLF line ends.
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(rows: readonly StatsRow[], context: ReportContext): string {
  const header = [
    ['Report_Name', 'Patronym sign-ins'],
    ['Report_ID', REPORT_ID],
    ['Created', context.created.toISOString()],
    ['Reporting_Period', `Begin_Date=${context.since}; End_Date=${context.until}`],
    ['Granularity', context.granularity],
    ['Notes', notes(context)],
    [],
  ];
  const table = [
    ['Library', 'Library_ID', 'Platform', 'Vendor_ID', 'Period', 'Metric_Type', 'Count'],
    ...reportLines(rows, context).map((l) => [
      l.library,
      l.libraryId,
      l.platform,
      l.vendorId,
      l.period,
      l.metric,
      l.count,
    ]),
  ];
  return `${[...header, ...table].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

export function toJson(rows: readonly StatsRow[], context: ReportContext): string {
  // COUNTER_SUSHI: one item per library and platform, its performance by period.
  const items = new Map<
    string,
    { Library: string; Library_ID: string; Platform: string; Vendor_ID: string; Performance: unknown[] }
  >();
  const byItem = new Map<string, Map<string, { Metric_Type: string; Count: Reported }[]>>();
  for (const line of reportLines(rows, context)) {
    const key = JSON.stringify([line.libraryId, line.vendorId]);
    if (!items.has(key)) {
      items.set(key, {
        Library: line.library,
        Library_ID: line.libraryId,
        Platform: line.platform,
        Vendor_ID: line.vendorId,
        Performance: [],
      });
      byItem.set(key, new Map());
    }
    const periods = byItem.get(key) as Map<string, { Metric_Type: string; Count: Reported }[]>;
    const instances = periods.get(line.period) ?? [];
    instances.push({ Metric_Type: line.metric, Count: line.count });
    periods.set(line.period, instances);
  }
  for (const [key, item] of items) {
    for (const [period, instances] of byItem.get(key) ?? [])
      item.Performance.push({ Period: period, Instance: instances });
  }
  return `${JSON.stringify(
    {
      Report_Header: {
        Report_Name: 'Patronym sign-ins',
        Report_ID: REPORT_ID,
        Created: context.created.toISOString(),
        Created_By: 'Patronym',
        Report_Attributes: { Granularity: context.granularity },
        Reporting_Period: { Begin_Date: context.since, End_Date: context.until },
        Notes: notes(context),
      },
      Report_Items: [...items.values()],
    },
    null,
    2,
  )}\n`;
}
