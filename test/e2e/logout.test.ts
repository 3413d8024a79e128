// RP-initiated logout on our own pages: confirm, end the session, return.
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { follow, formField, login, startLogin, vendor } from '../support/broker.ts';
import { useBroker } from '../support/use-broker.ts';

describe('RP-initiated logout', () => {
  const b = useBroker();

  it('asks, ends the broker session, returns to the registered URI, and the next sign-in shows the form', async () => {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const { tokens, jar } = await login(v, b.issuer, '21234000000001', '1234');
    // single sign-on: with the session cookie, no form
    expect((await startLogin(v, b.issuer, {}, jar)).loginPage).toBe('');

    const end = oidc.buildEndSessionUrl(v.config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: 'http://localhost:3001/',
      state: 'bye',
    });
    const confirm = await follow(jar, b.issuer, end.href);
    expect(confirm.response.status).toBe(200);
    expect(confirm.body).toContain('Do you want to sign out');
    expect(confirm.response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const action = /action="([^"]+)"/.exec(confirm.body)?.[1] ?? '';
    const xsrf = formField(confirm.body, 'xsrf') ?? '';
    const done = await follow(jar, b.issuer, new URL(action, b.issuer).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    expect(done.leftFor).toBe('http://localhost:3001/?state=bye');
    expect((await startLogin(v, b.issuer, {}, jar)).loginPage).toContain('name="card"');
  });

  it('refuses a post-logout URI that was not registered', async () => {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const { tokens, jar } = await login(v, b.issuer, '21234000000002', '2345');
    const end = oidc.buildEndSessionUrl(v.config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: 'https://evil.example/',
    });
    const result = await follow(jar, b.issuer, end.href);
    expect(result.leftFor).toBeUndefined();
    expect(result.response.status).toBe(400);
    expect(result.body).toContain('invalid_request');
  });
});
