// Pseudonyms survive a restart on the same data/ and keys/; after a batch of
// real sign-ins no card number or PIN is in the store, the logs or a cookie.
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { DEMO_PATRONS } from '../../src/cli/commands/demo.ts';
import { login, sqliteStoreText, startLogin, submitLogin, vendor } from '../support/broker.ts';
import { useBroker } from '../support/use-broker.ts';

describe('restart', () => {
  const b = useBroker();

  it('keeps the pseudonym, the session and refresh tokens across a restart', async () => {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const before = await login(v, b.issuer, '21234000000001', '1234', {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    const sub = before.tokens.claims()?.sub;
    await b.restart();

    const v2 = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    // the refresh token issued before the restart still works
    const refreshed = await oidc.refreshTokenGrant(v2.config, before.tokens.refresh_token as string);
    expect(refreshed.claims()?.sub).toBe(sub);
    // a fresh sign-in gives the same pseudonym
    const after = await login(v2, b.issuer, '21234000000001', '1234');
    expect(after.tokens.claims()?.sub).toBe(sub);
    // the broker session survived too: a new authorization with the old
    // cookies needs no form
    const again = await startLogin(v2, b.issuer, {}, before.jar);
    expect(again.loginPage).toBe('');
  });
});

describe('no patron data at rest', () => {
  const b = useBroker();

  it('after a batch of sign-ins, store files, logs and cookies hold no card number or PIN', async () => {
    const setCookies: string[] = [];
    for (const client of ['demo-vendor', 'demo-vendor-2', 'demo-app'] as const) {
      const v = await vendor(b.issuer, client, client === 'demo-app' ? undefined : 'demo-vendor-secret');
      for (const p of DEMO_PATRONS) {
        const s = await startLogin(v, b.issuer, { scope: 'openid offline_access', prompt: 'consent', login_hint: 'x' });
        await submitLogin(s, b.issuer, p.card, '0000');
        const result = await submitLogin(s, b.issuer, p.card, p.pin);
        setCookies.push(...s.jar.setCookieHeaders);
        if (p.status === 'active' && !('expires' in p)) {
          expect(result.leftFor).toMatch(/code=/);
          await oidc.authorizationCodeGrant(v.config, new URL(result.leftFor as string), {
            pkceCodeVerifier: s.verifier,
            expectedState: s.state,
            expectedNonce: s.nonce,
          });
        }
      }
    }
    await b.store.sweep();
    // Read every file of the SQLite store (database, WAL, shared memory) as bytes.
    const storeBytes = await sqliteStoreText(b);
    expect(storeBytes.length).toBeGreaterThan(1000);
    const haystacks = { store: storeBytes, logs: b.logs.join('\n'), cookies: setCookies.join('\n') };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const p of DEMO_PATRONS) {
        expect(text.includes(p.card), `${where} holds card ${p.card}`).toBe(false);
        // PINs are 4 digits: look for them as whole values, not inside other numbers.
        expect(
          new RegExp(`(^|[^0-9])${p.pin}([^0-9]|$)`).test(text.replace(/\d{5,}/g, '')),
          `${where} holds a PIN`,
        ).toBe(false);
      }
      expect(text.includes('0000"'), `${where} holds the wrong PIN`).toBe(false);
    }
  });
});

describe('no usable secrets at rest', () => {
  const b = useBroker();

  it('keeps access tokens, refresh tokens and codes in the store only as hashes', async () => {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const s = await startLogin(v, b.issuer, { scope: 'openid offline_access', prompt: 'consent' });
    const done = await submitLogin(s, b.issuer, '21234000000001', '1234');
    const code = new URL(done.leftFor as string).searchParams.get('code') as string;
    const tokens = await oidc.authorizationCodeGrant(v.config, new URL(done.leftFor as string), {
      pkceCodeVerifier: s.verifier,
      expectedState: s.state,
      expectedNonce: s.nonce,
    });
    const secrets = [code, tokens.access_token, tokens.refresh_token as string];
    expect(secrets.every((x) => typeof x === 'string' && x.length > 20)).toBe(true);
    await b.store.scrub();
    const files = await sqliteStoreText(b);
    for (const [i, secret] of secrets.entries()) expect(files.includes(secret), `secret ${i}`).toBe(false);
    // and they still work
    await oidc.fetchUserInfo(v.config, tokens.access_token, tokens.claims()?.sub as string);
    await oidc.refreshTokenGrant(v.config, tokens.refresh_token as string);
  });
});
