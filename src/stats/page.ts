// /stats: the usage statistics for the library's sysadmins, never for
// patrons. Two locks, both needed: the client address must be in
// `stats.page.allow` (loopback by default: reach it through an SSH tunnel
// or widen it to the staff network), and HTTP Basic must carry the password
// whose scrypt hash is `stats.page.passwordHash`. HTTP Basic because the
// page only reads: no session, no cookie, no form to forge; the browser
// asks once. Wrong passwords are counted per address in the store (so on
// every instance) before the costly check. Without a hash, there is no page.
import Router from '@koa/router';
import { Eta } from 'eta';
import type { Context } from 'koa';
import type { Config } from '../config/config.ts';
import { PatronymError } from '../errors.ts';
import { addressRanges } from '../libraries/library.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { METRICS, reportLines } from './counter.ts';
import { STANDARD_ERROR } from './hyperloglog.ts';
import { verifyStatsPassword } from './password.ts';
import { buildReport, checkQuery, formatReport } from './request.ts';

const STATS_USER = 'stats';
const LIMIT = { keyPrefix: 'stats_page', points: 10, duration: 900, blockDuration: 900 };

export interface StatsPageDeps {
  config: Config;
  store: Store;
  viewsDir: string;
  log: Logger;
  // A keyed handle for a client address (pseudonym/handle.ts).
  addressHandle: (ip: string) => string;
  now?: () => number;
}

function credentials(ctx: Context): { user: string; password: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(ctx.get('Authorization'));
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function statsPage(deps: StatsPageDeps): Router {
  const { config, store, log } = deps;
  const now = deps.now ?? Date.now;
  const allowed = addressRanges(config.stats.page.allow);
  // The sysadmin's page is English and outside the patron layout (no
  // language switcher, no patron footer): its own template, escaped.
  const eta = new Eta({ views: deps.viewsDir, autoEscape: true, cache: true });
  // Asked for at the first attempt: a store still connecting at start-up
  // must not leave a rejected promise behind for a page nobody opened.
  let limiter: ReturnType<Store['limiter']> | undefined;
  const router = new Router();

  router.get(['/stats', '/stats.csv', '/stats.json'], async (ctx) => {
    const address = ctx.state.clientAddress ?? ctx.ip;
    const hash = config.stats.page.passwordHash;
    if (!hash || !config.stats.enabled || !allowed(address)) {
      ctx.status = 404;
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    const refuse = () => {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Basic realm="Patronym statistics", charset="UTF-8"');
      ctx.body = 'statistics: sign in as a sysadmin';
    };
    const given = credentials(ctx);
    if (!given) return refuse();
    // Counted before it is checked, as every attempt in Patronym.
    const key = deps.addressHandle(address);
    limiter ??= store.limiter(LIMIT).catch((error: unknown) => {
      limiter = undefined;
      throw error;
    });
    try {
      await (await limiter).consume(key);
    } catch (error) {
      if (error instanceof Error) throw error;
      ctx.status = 429;
      ctx.body = 'statistics: too many wrong passwords from this address; try again later';
      return;
    }
    if (given.user !== STATS_USER || !(await verifyStatsPassword(given.password, hash))) {
      log.warn({ event: 'stats_page_denied', address: key }, 'stats: wrong user or password for /stats');
      return refuse();
    }
    await (await limiter)?.reward(key, 1);

    let query: ReturnType<typeof checkQuery>;
    try {
      query = checkQuery(
        {
          since: typeof ctx.query.since === 'string' && ctx.query.since ? ctx.query.since : undefined,
          until: typeof ctx.query.until === 'string' && ctx.query.until ? ctx.query.until : undefined,
          granularity: typeof ctx.query.granularity === 'string' ? ctx.query.granularity : undefined,
          library: typeof ctx.query.library === 'string' && ctx.query.library ? ctx.query.library : undefined,
        },
        now(),
      );
    } catch (error) {
      if (!(error instanceof PatronymError)) throw error;
      ctx.status = 400;
      ctx.type = 'text/plain';
      ctx.body = error.message;
      return;
    }
    const report = await buildReport(store, config, query, now());
    if (ctx.path !== '/stats') {
      const format = ctx.path.endsWith('.csv') ? 'csv' : 'json';
      ctx.type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json';
      ctx.set('Content-Disposition', `attachment; filename="patronym-${query.since}-${query.until}.${format}"`);
      ctx.body = formatReport(report, format);
      return;
    }
    const lines = reportLines(report.rows, report.context);
    const table = new Map<string, { library: string; platform: string; period: string; counts: string[] }>();
    for (const line of lines) {
      const id = JSON.stringify([line.period, line.libraryId, line.vendorId]);
      const row = table.get(id) ?? { library: line.library, platform: line.platform, period: line.period, counts: [] };
      row.counts[METRICS.indexOf(line.metric)] = String(line.count);
      table.set(id, row);
    }
    const search = new URLSearchParams({ since: query.since, until: query.until, granularity: query.granularity });
    if (query.library) search.set('library', query.library);
    ctx.type = 'html';
    ctx.body = eta.render('./stats', {
      query,
      rows: [...table.values()],
      threshold: config.stats.threshold,
      error: `${(STANDARD_ERROR * 100).toFixed(1)} %`,
      libraries: config.libraries.map((l) => ({ id: l.id, name: l.name })),
      download: search.toString(),
    });
  });
  return router;
}
