// src/app.ts sends requests for oidc-provider's endpoints past our pages'
// routers (issue 18): the skip must cover the provider's endpoints only,
// never one of our pages or files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProviderPath } from '../../src/app.ts';
import { type RunningBroker, removeDir, startBroker } from '../support/broker.ts';

let b: RunningBroker;

beforeAll(async () => {
  b = await startBroker({ config: { metrics: { enabled: true, allow: ['127.0.0.1/32'] } } as never });
});
afterAll(async () => {
  await b.stop();
  removeDir(b.dir);
});

describe('app: oidc-provider’s endpoints and our pages', () => {
  it('reads the first segment of a path', () => {
    expect(isProviderPath('/token')).toBe(true);
    expect(isProviderPath('/auth/abc123')).toBe(true);
    expect(isProviderPath('/.well-known/openid-configuration')).toBe(true);
    expect(isProviderPath('/session/end/confirm')).toBe(true);
    expect(isProviderPath('/')).toBe(false);
    expect(isProviderPath('/tokens')).toBe(false);
    expect(isProviderPath('/authority/token')).toBe(false);
    expect(isProviderPath('/interaction/abc/login')).toBe(false);
  });

  it('skips only paths under the endpoints discovery announces', async () => {
    const discovery = (await (await fetch(`${b.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    const endpoints = Object.entries(discovery)
      .filter(([name, value]) => /(_endpoint|_uri)$/.test(name) && typeof value === 'string')
      .map(([, value]) => new URL(value as string))
      .filter((url) => url.origin === b.issuer);
    expect(endpoints.length).toBeGreaterThanOrEqual(6);
    for (const url of endpoints) expect(isProviderPath(url.pathname), url.pathname).toBe(true);
  });

  it('still answers every page and file of ours', async () => {
    const ours = [
      '/',
      '/privacy',
      '/vendors',
      '/developers',
      '/button',
      '/button/button.css',
      '/button/library-light.svg',
      '/static/patronym.css',
      '/healthz',
      '/readyz',
      '/metrics',
      '/account',
    ];
    for (const path of ours) {
      expect(isProviderPath(path), path).toBe(false);
      const response = await fetch(`${b.issuer}${path}`, { redirect: 'manual' });
      expect([200, 302, 303], path).toContain(response.status);
    }
    // An interaction that does not exist: our error page, not a 404.
    const stale = await fetch(`${b.issuer}/interaction/no-such-uid`);
    expect(stale.status).toBe(400);
    expect(await stale.text()).toContain('<html');
    // No page at all: our 404 page, for provider-looking paths too.
    for (const path of ['/no-such-page', '/token/no-such-page']) {
      const missing = await fetch(`${b.issuer}${path}`);
      expect(missing.status, path).toBe(404);
    }
  });
});
