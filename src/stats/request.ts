// What the CLI and the page share: a checked query, the names a report
// shows, and the report itself in either format.
import type { Config } from '../config/config.ts';
import { PatronymError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { type ReportContext, toCsv, toJson } from './counter.ts';
import { type Granularity, parsePeriod, periodOf } from './period.ts';
import { readStats, type StatsQuery, type StatsRow } from './report.ts';

export interface QueryInput {
  since?: string | undefined;
  until?: string | undefined;
  granularity?: string | undefined;
  library?: string | undefined;
}

// Defaults: the last twelve months, by month.
export function checkQuery(input: QueryInput, now: number): StatsQuery {
  const granularity = input.granularity ?? 'month';
  if (granularity !== 'month' && granularity !== 'day') {
    throw new PatronymError(
      'stats_query_invalid',
      `stats: granularity must be "month" or "day"; found ${JSON.stringify(granularity)}`,
    );
  }
  const here = periodOf('month', now);
  const yearAgo = periodOf('month', Date.UTC(new Date(now).getUTCFullYear() - 1, new Date(now).getUTCMonth() + 1, 1));
  const since = input.since ?? yearAgo.id;
  const until = input.until ?? (granularity === 'day' ? periodOf('day', now).id : here.id);
  for (const [name, value] of [
    ['since', since],
    ['until', until],
  ] as const) {
    if (!parsePeriod(value)) {
      throw new PatronymError(
        'stats_query_invalid',
        `stats: --${name} must be a month (YYYY-MM) or a day (YYYY-MM-DD); found ${JSON.stringify(value)}`,
      );
    }
  }
  if (since > until) {
    throw new PatronymError('stats_query_invalid', `stats: "${since}" comes after "${until}"`);
  }
  return { since, until, granularity: granularity as Granularity, library: input.library };
}

// Configured vendors by their configured name; registered ones by the
// name they registered (oidc-provider's Client records).
async function vendorNames(store: Store, config: Config, rows: readonly StatsRow[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const client of config.clients) names.set(client.client_id, client.client_name ?? client.client_id);
  for (const id of new Set(rows.map((r) => r.vendor))) {
    if (names.has(id)) continue;
    const registered = await store.find('Client', id);
    if (typeof registered?.client_name === 'string') names.set(id, registered.client_name);
  }
  return names;
}

export interface Report {
  rows: StatsRow[];
  context: ReportContext;
}

export async function buildReport(store: Store, config: Config, query: StatsQuery, now: number): Promise<Report> {
  const rows = await readStats(store, query);
  return {
    rows,
    context: {
      created: new Date(now),
      since: query.since,
      until: query.until,
      granularity: query.granularity,
      threshold: config.stats.threshold,
      libraries: new Map(config.libraries.map((l) => [l.id, l.name])),
      vendors: await vendorNames(store, config, rows),
    },
  };
}

export function formatReport(report: Report, format: 'csv' | 'json'): string {
  return format === 'csv' ? toCsv(report.rows, report.context) : toJson(report.rows, report.context);
}
