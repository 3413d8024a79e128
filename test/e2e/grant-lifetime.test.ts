// A Grant lives as long as something can still use it, no longer (issue 18:
// 14-day Grants were most of the store). Without offline_access only the
// session and its short tokens reach a grant; with it, refresh tokens do.
// The store's clock moves instead of the test waiting.
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { follow, login, type RunningBroker, vendor } from '../support/broker.ts';
import { useBroker } from '../support/use-broker.ts';

const PATRON = { card: '21234000000001', pin: '1234' };
const HOUR = 3600 * 1000;

// Every Grant in the store with the expiry the store will drop it at.
async function grants(b: RunningBroker): Promise<{ id: string; expiresAt: number; scope: string }[]> {
  const found: { id: string; expiresAt: number; scope: string }[] = [];
  for await (const record of b.store.dump()) {
    if (record.model !== 'Grant') continue;
    const openid = (record.payload as { openid?: { scope?: string } }).openid;
    found.push({ id: record.id, expiresAt: record.expiresAt ?? Number.POSITIVE_INFINITY, scope: openid?.scope ?? '' });
  }
  return found;
}

describe('a grant does not outlive what can use it', () => {
  let offset = 0;
  const b = useBroker({ now: () => Date.now() + offset }, { per: 'test' });

  it('a sign-in without offline_access stores a grant no longer-lived than the session and its tokens', async () => {
    offset = 0;
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const before = Date.now();
    await login(v, b.issuer, PATRON.card, PATRON.pin);
    const { ttl } = b.config;
    // The session's end plus the longest token issued just before it.
    const longest =
      (Math.max(ttl.session, ttl.sharedSession) + Math.max(ttl.accessToken, ttl.idToken, ttl.authorizationCode)) * 1000;
    const stored = await grants(b);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.expiresAt).toBeLessThanOrEqual(Date.now() + longest);
    expect(stored[0]?.expiresAt).toBeGreaterThanOrEqual(before + longest - 60_000);
    // 10 hours on, past the session and its last tokens: the grant is gone.
    offset = longest + HOUR;
    expect(await b.store.find('Grant', stored[0]?.id ?? '')).toBeUndefined();
  });

  it('a grant holding offline_access lives as long as refresh tokens, and refreshes after 10 hours', async () => {
    offset = 0;
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const { tokens } = await login(v, b.issuer, PATRON.card, PATRON.pin, {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    const stored = await grants(b);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.scope).toContain('offline_access');
    const { ttl } = b.config;
    expect(stored[0]?.expiresAt).toBeGreaterThanOrEqual(
      Date.now() + Math.max(ttl.refreshToken, ttl.grant) * 1000 - 60_000,
    );
    offset = 10 * HOUR;
    const refreshed = await oidc.refreshTokenGrant(v.config, tokens.refresh_token as string);
    expect(refreshed.claims()?.sub).toBe(tokens.claims()?.sub);
  });

  it('a short grant reused in the same session for offline_access is lengthened before a refresh token is issued', async () => {
    offset = 0;
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const first = await login(v, b.issuer, PATRON.card, PATRON.pin);
    const [short] = await grants(b);
    // The same browser, the same session, now with offline_access.
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(v.config, {
      redirect_uri: v.redirectUri,
      scope: 'openid offline_access',
      prompt: 'consent',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const back = await follow(first.jar, b.issuer, url.href);
    expect(back.leftFor, back.body.slice(0, 300)).toBeTruthy();
    const tokens = await oidc.authorizationCodeGrant(v.config, new URL(back.leftFor as string), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    expect(tokens.refresh_token).toBeTruthy();
    const stored = await grants(b);
    const { ttl } = b.config;
    const used = stored.find((g) => g.scope.includes('offline_access'));
    expect(used, JSON.stringify({ short, stored })).toBeDefined();
    expect(used?.expiresAt).toBeGreaterThanOrEqual(Date.now() + Math.max(ttl.refreshToken, ttl.grant) * 1000 - 60_000);
    offset = 10 * HOUR;
    const refreshed = await oidc.refreshTokenGrant(v.config, tokens.refresh_token as string);
    expect(refreshed.claims()?.sub).toBe(tokens.claims()?.sub);
  });

  it('concurrent sign-ins, with and without offline_access, each get the lifetime of their own grant', async () => {
    offset = 0;
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const patrons = [PATRON, { card: '21234000000002', pin: '2345' }];
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => {
        const p = patrons[i % 2] ?? PATRON;
        const extra: Record<string, string> = i % 4 < 2 ? { scope: 'openid offline_access', prompt: 'consent' } : {};
        return login(v, b.issuer, p.card, p.pin, extra);
      }),
    );
    expect(results.filter((r) => r.tokens.refresh_token)).toHaveLength(4);
    const { ttl } = b.config;
    const short = (Math.max(ttl.session, ttl.sharedSession) + Math.max(ttl.accessToken, ttl.idToken)) * 1000;
    const long = Math.max(ttl.refreshToken, ttl.grant) * 1000;
    const stored = await grants(b);
    expect(stored).toHaveLength(8);
    const now = Date.now();
    for (const g of stored) {
      if (g.scope.includes('offline_access')) expect(g.expiresAt).toBeGreaterThanOrEqual(now + long - 60_000);
      else expect(g.expiresAt).toBeLessThanOrEqual(now + short);
    }
    expect(stored.filter((g) => g.scope.includes('offline_access'))).toHaveLength(4);
    // 10 hours on: the four short grants are gone, every refresh token still works.
    offset = 10 * HOUR;
    const left = [];
    for (const g of stored) if (await b.store.find('Grant', g.id)) left.push(g);
    expect(left).toHaveLength(4);
    for (const r of results.filter((x) => x.tokens.refresh_token)) {
      const refreshed = await oidc.refreshTokenGrant(v.config, r.tokens.refresh_token as string);
      expect(refreshed.claims()?.sub).toBe(r.tokens.claims()?.sub);
    }
  });
});
