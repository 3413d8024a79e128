// The pages anyone may read without signing in: / (what this service is),
// /vendors (every approved vendor and what it may ask for) and /privacy (the
// notice, replaceable by the library's own template).
import { readFileSync } from 'node:fs';
import Router from '@koa/router';
import { Eta } from 'eta';
import type { Config } from '../config/config.ts';
import { LIBRARY_COOKIE, LIBRARY_COOKIE_DAYS } from '../libraries/library-cookie.ts';
import type { Releasable } from '../policy/release.ts';
import type { VendorPolicies } from '../policy/vendors.ts';
import { DEVICE_COOKIE } from '../security/device-cookie.ts';
import type { Store } from '../store/store.ts';
import { LANG_COOKIE, LANG_COOKIE_DAYS, type RequestContext, sendPage, type Views } from '../views.ts';
import { SESSION_COOKIE, SESSION_SECONDS } from './privacy-session.ts';

export const releaseSentences = (views: Views, ctx: RequestContext, releases: readonly Releasable[]): string[] =>
  releases.map((r) => views.t(ctx, `release.${r}`));

export function publicPages(deps: { config: Config; store: Store; views: Views; policies: VendorPolicies }): Router {
  const { config, store, views, policies } = deps;
  const router = new Router();

  router.get('/vendors', async (ctx) => {
    // Configured vendors and those registered in the store alike (the
    // broker's own privacy-page client is static, so never among them);
    // a vendor that registered itself only once the sysadmin approved it.
    const stored = await store.list('Client');
    const approved = await Promise.all(stored.map(async (r) => !(await policies.isPending(r.id))));
    const registered = stored
      .filter((_r, i) => approved[i])
      .map((r) => ({
        id: r.id,
        name: String(r.payload.client_name ?? r.id),
        policyUri: r.payload.policy_uri,
      }));
    const configured = config.clients.map((c) => ({
      id: c.client_id,
      name: c.client_name ?? c.client_id,
      policyUri: c.policy_uri,
    }));
    const vendors = await Promise.all(
      [...configured, ...registered].map(async (v) => {
        const policy = await policies.get(v.id);
        return {
          name: v.name,
          policyUri: typeof v.policyUri === 'string' ? v.policyUri : undefined,
          releases: releaseSentences(views, ctx, policy.release),
          walkIn: policy.walkIn,
        };
      }),
    );
    sendPage(ctx, views, 'vendors', {
      title: views.t(ctx, 'vendors.title'),
      vendors: vendors.sort((a, b) => a.name.localeCompare(b.name)),
    });
  });

  const customPrivacy = config.privacyPage ? readFileSync(config.privacyPage, 'utf8') : undefined;
  const eta = new Eta({ autoEscape: true });
  router.get('/privacy', async (ctx) => {
    const data = {
      title: views.t(ctx, 'privacy.title'),
      retention: config.retention,
      sessionHours: Math.round(config.ttl.session / 3600),
      cookies: cookieTable(views, ctx, config),
      // What the usage statistics count (src/stats/).
      stats: { enabled: config.stats.enabled, threshold: config.stats.threshold },
    };
    if (!customPrivacy) return sendPage(ctx, views, 'privacy', data);
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.vary('Accept-Language');
    ctx.body = eta.renderString(customPrivacy, { ...data, ...views.helpers(ctx) });
  });

  // The landing page: what this is, for whom, and the libraries it serves
  // (a consortium's thousand are summed up after the first few).
  router.get('/', (ctx) => {
    const listed = [...config.libraries].sort((a, b) => a.name.localeCompare(b.name, views.locale(ctx)));
    sendPage(ctx, views, 'home', {
      title: views.t(ctx, 'home.title'),
      libraries: listed.slice(0, HOME_LIBRARIES).map((l) => ({ name: l.name, town: l.town })),
      more: Math.max(0, listed.length - HOME_LIBRARIES),
    });
  });

  return router;
}

const HOME_LIBRARIES = 30;

// Every cookie the broker sets: all strictly necessary. Lifetimes follow
// the configuration, so the table never promises what the broker does not do.
function cookieTable(
  views: Views,
  ctx: RequestContext,
  config: Config,
): { name: string; purpose: string; lifetime: string }[] {
  const signIn = views.t(ctx, 'cookie.sign-in');
  const days = (n: number) => views.t(ctx, 'cookie.days', { days: n });
  return [
    {
      name: '_interaction',
      purpose: views.t(ctx, 'cookie.interaction'),
      lifetime: views.t(ctx, 'cookie.interaction.lifetime', { minutes: Math.round(config.ttl.interaction / 60) }),
    },
    { name: '_interaction_resume', purpose: views.t(ctx, 'cookie.interaction-resume'), lifetime: signIn },
    {
      name: '_session',
      purpose: views.t(ctx, 'cookie.session'),
      lifetime: views.t(ctx, 'cookie.session.lifetime', { hours: Math.round(config.ttl.session / 3600) }),
    },
    { name: LIBRARY_COOKIE, purpose: views.t(ctx, 'cookie.library'), lifetime: days(LIBRARY_COOKIE_DAYS) },
    ...(config.throttle.deviceCookie.days > 0
      ? [
          {
            name: DEVICE_COOKIE,
            purpose: views.t(ctx, 'cookie.device'),
            lifetime: days(config.throttle.deviceCookie.days),
          },
        ]
      : []),
    {
      name: SESSION_COOKIE,
      purpose: views.t(ctx, 'cookie.account'),
      lifetime: views.t(ctx, 'cookie.minutes', { minutes: SESSION_SECONDS / 60 }),
    },
    { name: 'patronym_account_login', purpose: views.t(ctx, 'cookie.account-login'), lifetime: signIn },
    { name: LANG_COOKIE, purpose: views.t(ctx, 'cookie.lang'), lifetime: days(LANG_COOKIE_DAYS) },
  ];
}
