// Builds the broker: oidc-provider (itself a Koa app) with our headers,
// static stylesheet, error pages and interaction routes in front of it.
// Tests build it directly; main.ts only adds a listening socket.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import { createAuthenticator } from './auth/registry.ts';
import type { Config } from './config/config.ts';
import { errorPages } from './error-pages.ts';
import { Readiness, type ReadinessOptions } from './health.ts';
import { libraryAssets } from './libraries/assets.ts';
import { addressRanges, buildLibraries, type Library } from './libraries/library.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { Accounts } from './oidc/account.ts';
import { interactionRoutes } from './oidc/interactions.ts';
import { createProvider } from './oidc/provider.ts';
import { createPseudonyms } from './oidc/pseudonyms.ts';
import { privacyRoutes } from './pages/privacy-pages.ts';
import { publicPages } from './pages/public-pages.ts';
import { Consents } from './policy/consent.ts';
import { PatronData } from './policy/patron-data.ts';
import { ReleaseLog } from './policy/release-log.ts';
import { VendorPolicies } from './policy/vendors.ts';
import { createHandles } from './pseudonym/handle.ts';
import { clientAddressMiddleware } from './security/client-address.ts';
import { createCsrf } from './security/csrf.ts';
import { createDeviceCookies } from './security/device-cookie.ts';
import { securityHeaders } from './security/headers.ts';
import type { Keys } from './security/keys.ts';
import { refuseEncodedBodies } from './security/request-encoding.ts';
import { Throttle } from './security/throttle.ts';
import { statsPage } from './stats/page.ts';
import { PeriodKeys } from './stats/period-keys.ts';
import { StatsRecorder } from './stats/recorder.ts';
import type { Store } from './store/store.ts';
import { buttonRoutes } from './vendors/button.ts';
import { developersRoutes } from './vendors/developers.ts';
import { createViews, VIEWS_DIR } from './views.ts';

export interface AppDeps {
  config: Config;
  keys: Keys;
  store: Store;
  log: Logger;
  metrics?: Metrics;
  now?: () => number;
  // Tests shorten the throttle's slow-down steps.
  throttleDelayStepMs?: number;
  // Tests shorten the readiness checks' intervals.
  readiness?: ReadinessOptions;
}

export interface Broker {
  readiness: Readiness;
  app: Provider;
  provider: Provider;
  libraries: ReadonlyMap<string, Library>;
  close(): Promise<void>;
}

// /metrics for Prometheus, only to the configured address ranges.
function metricsEndpoint(config: Config['metrics'], metrics: Metrics): Middleware {
  const allowed = addressRanges(config.allow);
  return async (ctx, next) => {
    if (ctx.path !== '/metrics' || !config.enabled) return next();
    if (!allowed(ctx.state.clientAddress ?? ctx.ip)) {
      ctx.status = 404;
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  };
}

// /readyz for load balancers: 200 while the store and every library's
// backends answer (from the cached checks of health.ts), 503 otherwise and
// from SIGTERM on. The body says which part is not ready, naming no host.
function readyz(readiness: Readiness): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/readyz' || ctx.method !== 'GET') return next();
    if (readiness.report().pending) await readiness.settled();
    const report = readiness.report();
    ctx.set('Cache-Control', 'no-store');
    ctx.status = report.ready ? 200 : 503;
    ctx.body = { ready: report.ready, store: report.store, libraries: report.libraries };
  };
}

// The first path segments of oidc-provider's endpoints (its default routes:
// /auth, /token, /me, /jwks, /.well-known/openid-configuration,
// /session/end, /reg, /request); none of our pages is under them
// (test/unit/app-routes.test.ts).
const PROVIDER_SEGMENTS: ReadonlySet<string> = new Set([
  'auth',
  'token',
  'me',
  'jwks',
  '.well-known',
  'session',
  'reg',
  'request',
]);

export function isProviderPath(path: string): boolean {
  const end = path.indexOf('/', 1);
  return PROVIDER_SEGMENTS.has(end < 0 ? path.slice(1) : path.slice(1, end));
}

function staticFiles(): Middleware {
  const css = readFileSync(join(VIEWS_DIR, 'static', 'patronym.css'));
  return async (ctx, next) => {
    if (ctx.path === '/static/patronym.css' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.type = 'text/css';
      ctx.set('Cache-Control', 'public, max-age=86400');
      ctx.body = css;
      return;
    }
    if (ctx.path === '/healthz' && ctx.method === 'GET') {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = 'ok';
      return;
    }
    await next();
  };
}

export function createBroker(deps: AppDeps): Broker {
  const { config, keys, store, log } = deps;
  const views = createViews({ libraries: config.libraries });
  const accounts = new Accounts(store, config.ttl.account, keys.pairwiseKey, deps.now);
  const metrics = deps.metrics ?? createMetrics();
  const context = {
    pinPepper: keys.pinPepper,
    warn: (message: string) => log.warn({ event: 'config_warning' }, message),
    ...(deps.now ? { now: deps.now } : {}),
  };
  const { libraries, authenticators } = buildLibraries(config.libraries, config.realms, (entry) =>
    createAuthenticator(entry, context),
  );
  const policies = new VendorPolicies(config.clients, store);
  const csrf = createCsrf(keys.cookies[0] as string);
  const consents = new Consents(store, deps.now);
  const releaseLog = new ReleaseLog(store, deps.now);
  // Usage statistics: counts and sketches, never who (src/stats/).
  const stats = config.stats.enabled
    ? new StatsRecorder(store, new PeriodKeys(store, deps.now), config.stats.retention, { log })
    : undefined;
  const pseudonyms = createPseudonyms({ pairwiseKey: keys.pairwiseKey, accounts, realms: config.realms, libraries });
  const provider = createProvider({
    config,
    keys,
    store,
    accounts,
    libraries,
    policies,
    consents,
    releaseLog,
    pseudonyms,
    views,
    log,
    stats,
  });
  const routes = interactionRoutes({
    provider,
    pages: { views, csrf },
    libraries,
    policies,
    signIn: {
      accountKey: keys.accountKey,
      accounts,
      handles: createHandles(keys.accountKey),
      throttle: new Throttle(
        store,
        config.throttle,
        deps.throttleDelayStepMs !== undefined ? { delayStepMs: deps.throttleDelayStepMs } : {},
      ),
      deviceCookies: createDeviceCookies(keys.cookies, {
        days: config.throttle.deviceCookie.days,
        ...(deps.now ? { now: deps.now } : {}),
      }),
      log,
      metrics,
    },
    consent: { consents, accounts, consentDays: config.retention.consent },
  });

  const trusted = addressRanges(config.trustedProxies);
  provider.use(
    clientAddressMiddleware(trusted, (peer) =>
      log.warn(
        { event: 'untrusted_proxy', peer },
        `http: ${peer} sends X-Forwarded-For but is not in trustedProxies; if it is your reverse proxy, add it, or every patron counts as one address for throttling`,
      ),
    ),
  );
  provider.use(securityHeaders());
  // The request's language (views.ts), before any page can be rendered.
  provider.use(views.middleware());
  provider.use(errorPages(views, log));
  provider.use(refuseEncodedBodies(views, log));
  const readiness = new Readiness(store, libraries, authenticators, log, deps.readiness);
  const privacy = privacyRoutes({
    config,
    provider,
    store,
    views,
    csrf,
    accounts,
    consents,
    releaseLog,
    patronData: new PatronData(store),
    libraries,
    log,
    pseudonyms,
  });
  // Vendor onboarding: the button kit and the guide (docs/vendors.md).
  const button = buttonRoutes({
    issuer: config.issuer,
    libraries: [...libraries.values()],
    views,
  });
  // Our own pages and files, the sign-in's first (the busiest). A request
  // for one of oidc-provider's endpoints goes past all of them (each would
  // only match its path and call the next: about 0.1 ms a sign-in).
  const pages = compose<Parameters<Middleware>[0]>([
    routes.routes(),
    routes.allowedMethods(),
    staticFiles(),
    readyz(readiness),
    libraryAssets(libraries),
    metricsEndpoint(config.metrics, metrics),
    privacy.routes(),
    privacy.allowedMethods(),
    publicPages({ config, store, views, policies }).routes(),
    button.routes(),
    developersRoutes({ issuer: config.issuer, views }).routes(),
    statsPage({
      config,
      store,
      viewsDir: VIEWS_DIR,
      log,
      addressHandle: createHandles(keys.accountKey).address,
      ...(deps.now ? { now: deps.now } : {}),
    }).routes(),
  ] as Middleware[]);
  provider.use((ctx, next) => (isProviderPath(ctx.path) ? next() : pages(ctx, next)));

  return {
    app: provider,
    provider,
    libraries,
    readiness,
    async close() {
      readiness.close();
      // Writes the last second's sign-ins before the store closes.
      await stats?.close();
      await Promise.allSettled(authenticators.map((a) => a.close()));
    },
  };
}
