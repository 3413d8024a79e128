// The whole flow on the demo configuration, with openid-client as the vendor.
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { login, startLogin, submitLogin, vendor } from '../support/broker.ts';
import { useBroker } from '../support/use-broker.ts';

const ACTIVE = { card: '21234000000001', pin: '1234' };
const OTHER = { card: '21234000000002', pin: '2345' };

describe('sign-in flow (demo config, openid-client as vendor)', () => {
  const b = useBroker();

  it('authorize with PKCE → form → code → tokens → verified ID token → userinfo', async () => {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const { tokens } = await login(v, b.issuer, ACTIVE.card, ACTIVE.pin);
    const claims = tokens.claims();
    expect(claims).toBeDefined();
    if (!claims) return;
    // openid-client verified the signature against the JWKS, iss, aud, nonce.
    expect(claims.iss).toBe(b.issuer);
    expect(claims.aud).toBe('demo-vendor');
    expect(claims.sub).toMatch(/^[a-z2-7]{52}@springfield\.example\.org$/);
    expect(claims.sub).not.toContain(ACTIVE.card);
    const header = JSON.parse(Buffer.from(tokens.id_token?.split('.')[0] ?? '', 'base64url').toString());
    expect(header.alg).toBe('RS256');
    const info = await oidc.fetchUserInfo(v.config, tokens.access_token, claims.sub);
    expect(info.sub).toBe(claims.sub);
    expect(Object.keys(info)).toEqual(['sub']);
  });

  it('gives two vendors unrelated pseudonyms, and one vendor the same one each time', async () => {
    const v1 = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const v2 = await vendor(b.issuer, 'demo-vendor-2', 'demo-vendor-secret');
    const a = (await login(v1, b.issuer, ACTIVE.card, ACTIVE.pin)).tokens.claims()?.sub;
    const again = (await login(v1, b.issuer, ACTIVE.card, ACTIVE.pin)).tokens.claims()?.sub;
    const c = (await login(v2, b.issuer, ACTIVE.card, ACTIVE.pin)).tokens.claims()?.sub;
    const other = (await login(v1, b.issuer, OTHER.card, OTHER.pin)).tokens.claims()?.sub;
    expect(again).toBe(a);
    expect(c).not.toBe(a);
    expect(other).not.toBe(a);
  });

  it('releases no profile, email, address or phone claims even when asked', async () => {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const { tokens } = await login(v, b.issuer, ACTIVE.card, ACTIVE.pin, {
      scope: 'openid profile email address phone',
    });
    const claims: Partial<oidc.IDToken> = tokens.claims() ?? {};
    for (const claim of [
      'name',
      'given_name',
      'family_name',
      'email',
      'address',
      'phone_number',
      'preferred_username',
    ]) {
      expect(claims).not.toHaveProperty(claim);
    }
    const info = await oidc.fetchUserInfo(v.config, tokens.access_token, claims.sub as string);
    expect(Object.keys(info)).toEqual(['sub']);
    expect(tokens.scope?.split(' ')).toEqual(['openid']);
  });

  it('lets a public client in with PKCE, and refuses it without', async () => {
    const app = await vendor(b.issuer, 'demo-app');
    const { tokens } = await login(app, b.issuer, ACTIVE.card, ACTIVE.pin);
    expect(tokens.claims()?.aud).toBe('demo-app');

    const url = new URL(`${b.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: 'demo-app',
      redirect_uri: 'http://127.0.0.1:3003/callback',
      response_type: 'code',
      scope: 'openid',
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.origin).toBe('http://127.0.0.1:3003');
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('refuses implicit and hybrid flows and unregistered redirect URIs', async () => {
    for (const responseType of ['id_token', 'code id_token', 'token']) {
      const url = `${b.issuer}/auth?${new URLSearchParams({ client_id: 'demo-vendor', redirect_uri: 'http://localhost:3001/callback', response_type: responseType, scope: 'openid', nonce: 'n' })}`;
      const response = await fetch(url, { redirect: 'manual' });
      const location = response.headers.get('location') ?? '';
      expect(location, responseType).toMatch(/error=unsupported_response_type|error=invalid_request/);
    }
    const bad = `${b.issuer}/auth?${new URLSearchParams({ client_id: 'demo-vendor', redirect_uri: 'http://localhost:3001/callback/../evil', response_type: 'code', scope: 'openid' })}`;
    const response = await fetch(bad, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    const html = await response.text();
    expect(html).toContain('invalid_redirect_uri');
    expect(html).not.toMatch(/at .*\.js:\d+/);
  });

  it('issues a refresh token with offline_access that keeps working', async () => {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const { tokens } = await login(v, b.issuer, ACTIVE.card, ACTIVE.pin, {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await oidc.refreshTokenGrant(v.config, tokens.refresh_token as string);
    expect(refreshed.claims()?.sub).toBe(tokens.claims()?.sub);
  });

  it('shows the library and the vendor on the sign-in page', async () => {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const started = await startLogin(v, b.issuer);
    expect(started.loginPage).toContain('Springfield Public Library');
    expect(started.loginPage).toContain('Demo Vendor');
    expect(started.loginPage).toContain('name="card"');
    expect(started.loginPage).toContain('autocomplete="username"');
    expect(started.loginPage).toContain('autocomplete="current-password"');
    const submitted = await submitLogin(started, b.issuer, ACTIVE.card, ACTIVE.pin);
    expect(submitted.leftFor).toMatch(/^http:\/\/localhost:3001\/callback\?code=/);
  });
});
