// Vendor onboarding with stock OIDC: dynamic registration (RFC 7591/7592)
// behind single-use initial access tokens, the sysadmin's approval before a
// registered vendor signs anyone in, the library's rules for names and
// redirect URIs, sector identifier validation (OIDC Core 8.1), the release
// policy staying with the sysadmin, and back-channel logout carrying the
// pairwise sub the vendor knows.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveClient, setPolicy } from '../../src/cli/commands/clients.ts';
import { storedId } from '../../src/store/oidc-adapter.ts';
import {
  CookieJar,
  DEMO_VENDOR,
  follow,
  formField,
  login,
  startLogin,
  submitLogin,
  vendor,
} from '../support/broker.ts';
import { makeTls } from '../support/tls.ts';
import { useBroker } from '../support/use-broker.ts';

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

describe('vendor onboarding', () => {
  let sectorServer: Server;
  let sectorUrl: string;
  let logoutServer: Server;
  let logoutUri: string;
  const logoutTokens: string[] = [];
  let sectorDocument: string[] = [];
  let pki: string;

  beforeAll(async () => {
    pki = mkdtempSync(join(tmpdir(), 'patronym-pki-'));
    makeTls(pki);
    sectorServer = createHttpsServer(
      { key: readFileSync(join(pki, 'server.key')), cert: readFileSync(join(pki, 'server.pem')) },
      (_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(sectorDocument));
      },
    );
    sectorUrl = `https://127.0.0.1:${await listen(sectorServer)}/sector.json`;
    logoutServer = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.statusCode = 200;
        res.end();
      });
    });
    logoutUri = `http://127.0.0.1:${await listen(logoutServer)}/logout`;
  });
  const b = useBroker(() => ({
    config: {
      outbound: { allowPrivateAddresses: true, ca: join(pki, 'ca.pem') },
      clients: [
        {
          ...DEMO_VENDOR,
          backchannel_logout_uri: logoutUri,
          backchannel_logout_session_required: true,
        },
      ],
    },
  }));
  afterAll(async () => {
    sectorServer.close();
    logoutServer.close();
  });

  const register = (metadata: Record<string, unknown>, token?: string) =>
    fetch(`${b.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(metadata),
    });
  const initialAccessToken = () => new b.broker.provider.InitialAccessToken({ expiresIn: 600 }).save();
  // What `patronym clients token --uses N` writes beside the token.
  const tokenFor = async (uses: number) => {
    const token = await initialAccessToken();
    await b.store.update('InitialAccessToken', storedId('InitialAccessToken', token), (t) => ({ ...t, uses }), 600);
    return token;
  };
  // The sysadmin's commands, as `patronym clients …` runs them.
  const asSysadmin = async (command: () => Promise<void>) => {
    process.env.PATRONYM_CONFIG = b.configPath;
    const write = process.stdout.write;
    process.stdout.write = () => true;
    try {
      await command();
    } finally {
      process.stdout.write = write;
      delete process.env.PATRONYM_CONFIG;
    }
  };

  it('refuses registration without an initial access token', async () => {
    const response = await register({ redirect_uris: ['https://vendor.example/cb'] });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_token');
  });

  it('registers a vendor with a token, which then signs patrons in with a pairwise sub; RFC 7592 manages it', async () => {
    const response = await register(
      { client_name: 'Registered Vendor', redirect_uris: ['http://vendor.localhost:4000/cb'] },
      await initialAccessToken(),
    );
    expect(response.status).toBe(201);
    const client = (await response.json()) as Record<string, string>;
    expect(client.subject_type).toBe('pairwise');
    expect(client.client_secret).toBeTruthy();
    await asSysadmin(() => approveClient(client.client_id as string));
    const v = await vendor(
      b.issuer,
      client.client_id as string,
      client.client_secret,
      'http://vendor.localhost:4000/cb',
    );
    const { tokens } = await login(v, b.issuer, '21234000000001', '1234');
    expect(tokens.claims()?.sub).toMatch(/^[a-z2-7]{52}@springfield\.example\.org$/);

    const manage = { authorization: `Bearer ${client.registration_access_token}` };
    const read = await fetch(client.registration_client_uri as string, { headers: manage });
    expect(read.status).toBe(200);
    const gone = await fetch(client.registration_client_uri as string, { method: 'DELETE', headers: manage });
    expect(gone.status).toBe(204);
    await expect(login(v, b.issuer, '21234000000001', '1234')).rejects.toThrow();
  });

  describe('initial access tokens', () => {
    it('registers exactly one vendor with a single-use token, whatever the concurrency; then the token is refused', async () => {
      const token = await initialAccessToken();
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          register({ client_name: `Burst ${i}`, redirect_uris: [`https://burst${i}.example/cb`] }, token),
        ),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 401)).toHaveLength(19);
      const refused = responses.find((r) => r.status === 401) as Response;
      expect(((await refused.json()) as { error: string }).error).toBe('invalid_token');
      const again = await register({ redirect_uris: ['https://later.example/cb'] }, token);
      expect(again.status).toBe(401);
      expect(
        (await b.store.list('Client')).filter((c) => String(c.payload.client_name).startsWith('Burst')),
      ).toHaveLength(1);
    });

    it('allows as many registrations as the token says, in parallel too', async () => {
      const token = await tokenFor(3);
      const statuses = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const response = await register({ redirect_uris: [`https://three${i}.example/cb`] }, token);
          await response.arrayBuffer();
          return response.status;
        }),
      );
      expect(statuses.filter((s) => s === 201)).toHaveLength(3);
      expect(statuses.filter((s) => s === 401)).toHaveLength(7);
    });

    it('does not spend a use on a registration that was refused', async () => {
      const token = await initialAccessToken();
      const refused = await register({ redirect_uris: ['http://vendor.example/cb'] }, token);
      expect(refused.status).toBe(400);
      expect((await register({ redirect_uris: ['https://vendor.example/cb'] }, token)).status).toBe(201);
      expect((await register({ redirect_uris: ['https://vendor.example/cb'] }, token)).status).toBe(401);
    });
  });

  describe('the library’s rules for registered metadata', () => {
    const refusal = async (metadata: Record<string, unknown>) => {
      const response = await register(metadata, await initialAccessToken());
      expect(response.status, JSON.stringify(metadata)).toBe(400);
      return (await response.json()) as { error: string; error_description: string };
    };

    it('refuses redirect URIs over http (but on the loopback) and with a user name or password', async () => {
      for (const [uri, why] of [
        ['http://vendor.example/cb', 'must use https (http only on the loopback)'],
        ['http://10.0.0.8/cb', 'must use https (http only on the loopback)'],
        ['ftp://vendor.example/cb', 'must use https'],
        ['https://user:pw@vendor.example/cb', 'must not carry a user name or password'],
        ['https://user@vendor.example/cb', 'must not carry a user name or password'],
      ] as const) {
        const error = await refusal({ redirect_uris: [uri] });
        expect(error.error).toBe('invalid_redirect_uri'); // RFC 7591 3.2.2
        expect(error.error_description).toBe(`redirect_uris: "${uri}" ${why}`);
      }
      const logout = await refusal({
        redirect_uris: ['https://vendor.example/cb'],
        post_logout_redirect_uris: ['http://vendor.example/'],
      });
      expect(logout.error_description).toContain('post_logout_redirect_uris');
      for (const uri of ['http://127.0.0.1:8080/cb', 'http://[::1]:8080/cb', 'http://localhost/cb']) {
        const response = await register({ redirect_uris: [uri] }, await initialAccessToken());
        expect(response.status, uri).toBe(201);
      }
    });

    it('refuses a name that passes the vendor off as a library, however it is written', async () => {
      for (const name of [
        'Springfield Public Library',
        'Springfield Public Library (official)',
        'SPRINGFIELD  públic-library e-books',
        'The SpringfieldPublicLibrary',
      ]) {
        const error = await refusal({ client_name: name, redirect_uris: ['https://vendor.example/cb'] });
        expect(error.error).toBe('invalid_client_metadata');
        expect(error.error_description).toBe(
          `client_name: "${name}" names the library "Springfield Public Library"; a vendor registers under its own name`,
        );
      }
      // and a vendor cannot rename itself so later (RFC 7592)
      const client = (await (
        await register(
          { client_name: 'Books Inc', redirect_uris: ['https://books.example/cb'] },
          await initialAccessToken(),
        )
      ).json()) as Record<string, string>;
      const {
        registration_access_token: rat,
        registration_client_uri: uri,
        client_secret_expires_at: _e,
        client_id_issued_at: _i,
        ...metadata
      } = client;
      const renamed = await fetch(uri as string, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${rat}` },
        body: JSON.stringify({ ...metadata, client_name: 'Springfield Public Library (official)' }),
      });
      expect(renamed.status).toBe(400);
      expect(((await renamed.json()) as { error_description: string }).error_description).toContain(
        'names the library',
      );
    });
  });

  describe('approval', () => {
    it('keeps a vendor that registered itself off /vendors and away from patrons until the sysadmin approves it, and again after a rename', async () => {
      const response = await register(
        { client_name: 'Pending Press', redirect_uris: ['https://pending.example/cb'] },
        await initialAccessToken(),
      );
      const client = (await response.json()) as Record<string, string>;
      const clientId = client.client_id as string;
      const v = await vendor(b.issuer, clientId, client.client_secret, 'https://pending.example/cb');
      expect(await (await fetch(`${b.issuer}/vendors`)).text()).not.toContain('Pending Press');
      // The authorization request goes back to the vendor, refused: no sign-in page, no name shown.
      const started = await startLogin(v, b.issuer);
      expect(started.loginPage).toBe('');
      const refused = await fetch(
        oidc.buildAuthorizationUrl(v.config, {
          redirect_uri: v.redirectUri,
          scope: 'openid',
          code_challenge: 'x'.repeat(43),
          code_challenge_method: 'S256',
        }),
        { redirect: 'manual' },
      );
      const location = new URL(refused.headers.get('location') ?? '');
      expect(location.origin + location.pathname).toBe('https://pending.example/cb');
      expect(location.searchParams.get('error')).toBe('unauthorized_client');
      expect(b.logs.some((l) => l.includes('"event":"vendor_pending"') && l.includes(clientId))).toBe(true);

      await asSysadmin(() => approveClient(clientId));
      expect(await (await fetch(`${b.issuer}/vendors`)).text()).toContain('Pending Press');
      expect((await login(v, b.issuer, '21234000000001', '1234')).tokens.claims()?.sub).toBeTruthy();

      // a new name is a new vendor for patrons: it waits again
      const {
        registration_access_token: rat,
        registration_client_uri: uri,
        client_secret_expires_at: _e,
        client_id_issued_at: _i,
        ...metadata
      } = client;
      const renamed = await fetch(uri as string, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${rat}` },
        body: JSON.stringify({ ...metadata, client_name: 'Totally Different Press' }),
      });
      expect(renamed.status).toBe(200);
      await expect(login(v, b.issuer, '21234000000001', '1234')).rejects.toThrow();
      expect(await (await fetch(`${b.issuer}/vendors`)).text()).not.toContain('Different Press');
    });
  });

  it('refuses an attempt to set a release policy', async () => {
    for (const key of ['release', 'release_policy']) {
      const response = await register(
        { redirect_uris: ['https://vendor.example/cb'], [key]: ['library', 'affiliation'] },
        await initialAccessToken(),
      );
      expect(response.status, key).toBe(400);
      const error = (await response.json()) as { error: string; error_description: string };
      expect(error.error).toBe('invalid_client_metadata');
      expect(error.error_description).toContain('set by the library, not by the vendor');
    }
  });

  it('validates sector_identifier_uri per OIDC Core 8.1', async () => {
    const redirects = ['https://a.vendor.example/cb', 'https://b.vendor.example/cb'];
    // several hosts, no sector document
    let response = await register({ redirect_uris: redirects }, await initialAccessToken());
    expect(response.status).toBe(400);
    // not https
    response = await register(
      { redirect_uris: redirects, sector_identifier_uri: sectorUrl.replace('https', 'http') },
      await initialAccessToken(),
    );
    expect(response.status).toBe(400);
    // a redirect URI missing from the document
    sectorDocument = [redirects[0] as string];
    response = await register(
      { redirect_uris: redirects, sector_identifier_uri: sectorUrl },
      await initialAccessToken(),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_client_metadata');
    // the document lists them all
    sectorDocument = redirects;
    response = await register(
      { redirect_uris: redirects, sector_identifier_uri: sectorUrl },
      await initialAccessToken(),
    );
    expect(response.status).toBe(201);
  });

  it('gives a registered vendor nothing beyond its pseudonym until the sysadmin sets its policy', async () => {
    const client = (await (
      await register(
        { client_name: 'Library Stats', redirect_uris: ['http://stats.localhost:4001/cb'] },
        await initialAccessToken(),
      )
    ).json()) as Record<string, string>;
    await asSysadmin(() => approveClient(client.client_id as string));
    const v = await vendor(
      b.issuer,
      client.client_id as string,
      client.client_secret,
      'http://stats.localhost:4001/cb',
    );
    const before = await login(v, b.issuer, '21234000000002', '2345', { scope: 'openid library' });
    const info = await oidc.fetchUserInfo(v.config, before.tokens.access_token, before.tokens.claims()?.sub as string);
    expect(Object.keys(info)).toEqual(['sub']);

    await asSysadmin(() => setPolicy(client.client_id as string, 'library', {}));
    const started = await startLogin(v, b.issuer, { scope: 'openid library' });
    const consent = await submitLogin(started, b.issuer, '21234000000002', '2345');
    expect(consent.body).toContain('the name of your library');
    // and the public list of vendors says so
    const vendors = await (await fetch(`${b.issuer}/vendors`)).text();
    expect(vendors).toMatch(/Library Stats<\/h2>\s*<p>May ask for: the name of your library<\/p>/);
  });

  it('sends a back-channel logout with the pairwise sub when the patron signs out, and when forgotten', async () => {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const jwks = createRemoteJWKSet(new URL(`${b.issuer}/jwks`));
    const verify = async (token: string) =>
      (await jwtVerify(token, jwks, { issuer: b.issuer, audience: 'demo-vendor', typ: 'logout+jwt' })).payload;

    const { tokens, jar } = await login(v, b.issuer, '21234000000001', '1234');
    const sub = tokens.claims()?.sub;
    const end = oidc.buildEndSessionUrl(v.config, { id_token_hint: tokens.id_token as string });
    const confirm = await follow(jar, b.issuer, end.href);
    const action = /action="([^"]+)"/.exec(confirm.body)?.[1] ?? '';
    logoutTokens.length = 0;
    await follow(jar, b.issuer, new URL(action, b.issuer).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf: formField(confirm.body, 'xsrf') ?? '', logout: 'yes' }).toString(),
    });
    expect(logoutTokens).toHaveLength(1);
    const payload = await verify(logoutTokens[0] as string);
    expect(payload.sub).toBe(sub);
    expect(payload.sid).toBeTruthy();
    expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(payload).not.toHaveProperty('nonce');

    // "forget me" tells the vendor too
    await login(v, b.issuer, '21234000000001', '1234');
    logoutTokens.length = 0;
    const accountJar = new CookieJar();
    const first = await follow(accountJar, b.issuer, `${b.issuer}/account`);
    const signedIn = await submitLogin(
      { jar: accountJar, loginPage: first.body, loginUrl: first.url, verifier: '', state: '', nonce: '' },
      b.issuer,
      '21234000000001',
      '1234',
    );
    expect(signedIn.body).toContain('Your privacy');
    const confirmForget = await follow(accountJar, b.issuer, `${b.issuer}/account/confirm?action=forget`);
    await follow(accountJar, b.issuer, `${b.issuer}/account/forget`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: formField(confirmForget.body, 'csrf') ?? '' }).toString(),
    });
    expect(logoutTokens.length).toBeGreaterThanOrEqual(1);
    expect((await verify(logoutTokens[0] as string)).sub).toBe(sub);
  });
});
