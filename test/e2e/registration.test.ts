// Vendor onboarding with stock OIDC: dynamic registration (RFC 7591/7592)
// behind initial access tokens, sector identifier validation (OIDC Core
// 8.1), the release policy staying with the sysadmin, and back-channel
// logout carrying the pairwise sub the vendor knows.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPolicy } from '../../src/cli/commands/clients.ts';
import {
  CookieJar,
  follow,
  formField,
  login,
  type RunningBroker,
  removeDir,
  startBroker,
  startLogin,
  submitLogin,
  vendor,
} from '../support/broker.ts';
import { makeTls } from '../support/tls.ts';

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

describe('vendor onboarding', () => {
  let b: RunningBroker;
  let sectorServer: Server;
  let sectorUrl: string;
  let logoutServer: Server;
  let logoutUri: string;
  const logoutTokens: string[] = [];
  let sectorDocument: string[] = [];

  beforeAll(async () => {
    const pki = mkdtempSync(join(tmpdir(), 'patronym-pki-'));
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
    b = await startBroker({
      config: {
        outbound: { allowPrivateAddresses: true, ca: join(pki, 'ca.pem') },
        clients: [
          {
            client_id: 'demo-vendor',
            client_name: 'Demo Vendor',
            client_secret: 'demo-vendor-secret',
            redirect_uris: ['http://localhost:3001/callback'],
            post_logout_redirect_uris: ['http://localhost:3001/'],
            backchannel_logout_uri: logoutUri,
            backchannel_logout_session_required: true,
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await b.stop();
    removeDir(b.dir);
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
    const v = await vendor(
      b.issuer,
      client.client_id as string,
      client.client_secret,
      'http://stats.localhost:4001/cb',
    );
    const before = await login(v, b.issuer, '21234000000002', '2345', { scope: 'openid library' });
    const info = await oidc.fetchUserInfo(v.config, before.tokens.access_token, before.tokens.claims()?.sub as string);
    expect(Object.keys(info)).toEqual(['sub']);

    process.env.PATRONYM_CONFIG = b.configPath;
    try {
      await setPolicy(client.client_id as string, 'library', {});
    } finally {
      delete process.env.PATRONYM_CONFIG;
    }
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
