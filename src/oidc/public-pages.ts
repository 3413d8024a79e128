// The pages anyone may read without signing in: /vendors (every approved
// vendor and what it may ask for) and /privacy (the notice, replaceable by the
// library's own template).
import { readFileSync } from 'node:fs';
import Router from '@koa/router';
import { Eta } from 'eta';
import type { Config } from '../config/load.ts';
import type { Releasable } from '../policy/release.ts';
import type { VendorPolicies } from '../policy/vendors.ts';
import type { Store } from '../store/store.ts';
import { sendPage, type Views } from '../views.ts';

export const releaseSentences = (views: Views, releases: readonly Releasable[]): string[] =>
  releases.map((r) => views.t(`release.${r}`));

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
          releases: releaseSentences(views, policy.release),
          walkIn: policy.walkIn,
        };
      }),
    );
    sendPage(ctx, views, 'vendors', {
      title: views.t('vendors.title'),
      vendors: vendors.sort((a, b) => a.name.localeCompare(b.name)),
    });
  });

  const customPrivacy = config.privacyPage ? readFileSync(config.privacyPage, 'utf8') : undefined;
  const eta = new Eta({ autoEscape: true });
  router.get('/privacy', async (ctx) => {
    const data = {
      title: views.t('privacy.title'),
      retention: config.retention,
      sessionHours: Math.round(config.ttl.session / 3600),
      cookies: COOKIES,
    };
    if (!customPrivacy) return sendPage(ctx, views, 'privacy', data);
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = eta.renderString(customPrivacy, { ...data, t: views.t, lang: views.lang });
  });

  return router;
}

// Every cookie the broker sets: all strictly necessary.
export const COOKIES = [
  {
    name: '_interaction',
    purpose: 'ties your browser to the sign-in in progress',
    lifetime: 'the sign-in (15 minutes)',
  },
  { name: '_interaction_resume', purpose: 'returns you from the sign-in page to the website', lifetime: 'the sign-in' },
  {
    name: '_session',
    purpose: 'keeps you signed in across websites until you sign out',
    lifetime: 'at most the session lifetime',
  },
  { name: 'patronym_library', purpose: 'remembers which library you chose (only its name)', lifetime: '180 days' },
  {
    name: 'patronym_device',
    purpose:
      'lets you sign in on this device while someone else’s wrong guesses have locked your card (no card number in it; not set on a shared computer)',
    lifetime: '180 days',
  },
  { name: 'patronym_account', purpose: 'keeps you on your privacy page', lifetime: '15 minutes' },
  { name: 'patronym_account_login', purpose: 'protects the sign-in to your privacy page', lifetime: 'the sign-in' },
] as const;
