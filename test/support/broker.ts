// Starts a real broker (createBroker on a loopback port, real store, real
// keys in a temporary folder) and drives sign-ins the way a browser would,
// with openid-client as the vendor. Used by the e2e tests and benchmarks.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as oidc from 'openid-client';
import { stringify } from 'yaml';
import type { Broker } from '../../src/app.ts';
import { authenticatorKinds } from '../../src/auth/registry.ts';
import { writeDemoPatrons } from '../../src/cli/commands/demo.ts';
import type { Config } from '../../src/config/config.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createLogger } from '../../src/log.ts';
import { type Keys, loadKeys } from '../../src/security/keys.ts';
import { createBrokerServer } from '../../src/server.ts';
import { openStore } from '../../src/store/registry.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/store.ts';

export interface RunningBroker {
  issuer: string;
  port: number;
  dir: string;
  config: Config;
  keys: Keys;
  store: Store;
  broker: Broker;
  // The listening server (the bench counts each request's CPU on it).
  server: Server;
  logs: string[];
  configPath: string;
  // Rewrites the configuration file (merged over the demo one as at start).
  writeConfig(config: Partial<ConfigInput> | string): void;
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

export interface StartOptions {
  // Merged over the demo-like default below.
  config?: Partial<ConfigInput>;
  // Reuse a folder (keys/, data/) from an earlier broker: a restart.
  dir?: string;
  port?: number;
  now?: () => number;
  // How long a broker replaced by a reload may finish its requests (default 0).
  drainMs?: number;
}

// The first demo vendor, as registered in the demo configuration; tests that
// add to its registration (a logout URI) start from this one.
export const DEMO_VENDOR = {
  client_id: 'demo-vendor',
  client_name: 'Demo Vendor',
  client_secret: 'demo-vendor-secret',
  redirect_uris: ['http://localhost:3001/callback'],
  post_logout_redirect_uris: ['http://localhost:3001/'],
};

export function demoConfig(dir: string, port: number): ConfigInput {
  return {
    issuer: `http://127.0.0.1:${port}`,
    port,
    store: { kind: 'sqlite', path: join(dir, 'data', 'patronym.sqlite') },
    keys: { dir: join(dir, 'keys') },
    log: { level: 'info' },
    realms: [{ id: 'springfield', scope: 'springfield.example.org' }],
    libraries: [
      {
        id: 'springfield',
        name: 'Springfield Public Library',
        realm: 'springfield',
        cardPatterns: ['21234'],
        authenticators: [{ id: 'springfield-patrons', kind: 'file', path: join(dir, 'data', 'demo-patrons.yaml') }],
      },
    ],
    clients: [
      DEMO_VENDOR,
      {
        client_id: 'demo-vendor-2',
        client_name: 'Second Demo Vendor',
        client_secret: 'demo-vendor-secret',
        redirect_uris: ['http://127.0.0.1:3002/callback'],
      },
      {
        client_id: 'demo-app',
        client_name: 'Demo App',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1:3003/callback'],
      },
    ],
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startBroker(options: StartOptions = {}): Promise<RunningBroker> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'patronym-broker-'));
  const port = options.port ?? (await freePort());
  const configPath = join(dir, 'config.yaml');
  const writeConfig = (override: Partial<ConfigInput> | string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      configPath,
      typeof override === 'string' ? override : stringify({ ...demoConfig(dir, port), ...override }),
    );
  };
  writeConfig(options.config ?? {});
  // The demo patron file is written below, with the keys' pepper: files are
  // checked by the reloads, not by this first load.
  const config = loadConfigFile(configPath, { kinds: authenticatorKinds, env: {}, files: false });
  const keys = await loadKeys(config.keys.dir, config.keys, {});
  await writeDemoPatrons(join(dir, 'data', 'demo-patrons.yaml'), keys.pinPepper);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const log = createLogger(config.log.level, sink);
  const store = openStore(config.store, options.now ? { now: options.now } : {});
  const running = createBrokerServer({
    configPath,
    config,
    keys,
    store,
    log,
    env: {},
    drainMs: options.drainMs ?? 0,
    // Throttling's slow-down steps in milliseconds, not seconds.
    throttleDelayStepMs: 5,
    loadKeys: () => loadKeys(config.keys.dir, config.keys, {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const { server } = running;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer: config.issuer,
    port,
    dir,
    get config() {
      return running.current().config;
    },
    keys,
    store,
    get broker() {
      return running.current().broker;
    },
    server,
    logs,
    configPath,
    writeConfig,
    reload: () => running.reload(),
    async stop() {
      server.closeAllConnections();
      await running.close();
      await store.close();
      // Let keep-alive clients (undici) see the closed sockets before a
      // restarted broker takes the same port.
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

// Every file of a broker's SQLite store (database, WAL, shared memory) as
// one text: a leak scan must read the journal too, not just the database.
// The records the store still holds in memory (its write-behind) are written
// first, so the scan sees everything the broker keeps.
export async function sqliteStoreText(b: { dir: string; store: Store }): Promise<string> {
  if (b.store instanceof SqliteStore) await b.store.flushPending();
  const data = join(b.dir, 'data');
  return readdirSync(data)
    .filter((f) => f.startsWith('patronym.sqlite'))
    .map((f) => readFileSync(join(data, f)).toString('latin1'))
    .join('\n');
}

// ---- a browser without a browser: cookies and redirects by hand ----

export class CookieJar {
  readonly cookies = new Map<string, string>();
  readonly setCookieHeaders: string[] = [];
  store(response: Response): void {
    this.storeHeaders(response.headers.getSetCookie());
  }
  // The Set-Cookie header lines of a response (bench/walk.ts, node:http).
  storeHeaders(setCookies: readonly string[]): void {
    for (const header of setCookies) {
      this.setCookieHeaders.push(header);
      const [pair] = header.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(header) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export async function browserFetch(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...(init.headers as Record<string, string>), cookie: jar.header() },
  });
  jar.store(response);
  return response;
}

// Follows redirects within the broker; stops at the first URL outside it
// (the vendor's callback) or at a page.
export async function follow(
  jar: CookieJar,
  issuer: string,
  url: string,
  init: RequestInit = {},
): Promise<{ response: Response; url: string; body: string; leftFor?: string }> {
  let current = url;
  let response = await browserFetch(jar, current, init);
  for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops++) {
    const location = new URL(response.headers.get('location') ?? '', current).href;
    await response.arrayBuffer();
    if (!location.startsWith(issuer)) return { response, url: current, body: '', leftFor: location };
    current = location;
    response = await browserFetch(jar, current);
  }
  return { response, url: current, body: await response.text() };
}

export function formField(html: string, name: string): string | undefined {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  return match?.[1];
}

export interface Vendor {
  config: oidc.Configuration;
  redirectUri: string;
}

export async function vendor(issuer: string, clientId: string, secret?: string, redirectUri?: string): Promise<Vendor> {
  const config = await oidc.discovery(
    new URL(issuer),
    clientId,
    secret,
    secret === undefined ? oidc.None() : oidc.ClientSecretBasic(secret),
    { execute: [oidc.allowInsecureRequests] },
  );
  const redirect =
    redirectUri ??
    {
      'demo-vendor': 'http://localhost:3001/callback',
      'demo-vendor-2': 'http://127.0.0.1:3002/callback',
      'demo-app': 'http://127.0.0.1:3003/callback',
    }[clientId] ??
    '';
  return { config, redirectUri: redirect };
}

export interface StartedLogin {
  jar: CookieJar;
  loginPage: string;
  loginUrl: string;
  verifier: string;
  state: string;
  nonce: string;
}

export async function startLogin(
  v: Vendor,
  issuer: string,
  extra: Record<string, string> = {},
  jar = new CookieJar(),
): Promise<StartedLogin> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(v.config, {
    redirect_uri: v.redirectUri,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  const page = await follow(jar, issuer, url.href);
  return { jar, loginPage: page.body, loginUrl: page.url, verifier, state, nonce };
}

export async function submitLogin(
  started: StartedLogin,
  issuer: string,
  card: string,
  pin: string,
): Promise<{ response: Response; body: string; leftFor?: string }> {
  const action = /action="([^"]+)"/.exec(started.loginPage)?.[1];
  if (!action) throw new Error(`no login form on the page: ${started.loginPage.slice(0, 200)}`);
  const csrf = formField(started.loginPage, 'csrf') ?? '';
  return follow(started.jar, issuer, new URL(action, issuer).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, card, pin }).toString(),
  });
}

export async function completeLogin(v: Vendor, started: StartedLogin, callback: string) {
  return oidc.authorizationCodeGrant(v.config, new URL(callback), {
    pkceCodeVerifier: started.verifier,
    expectedState: started.state,
    expectedNonce: started.nonce,
  });
}

// The whole flow: authorize → form → code → tokens. Throws when no code comes back.
export async function login(v: Vendor, issuer: string, card: string, pin: string, extra: Record<string, string> = {}) {
  const started = await startLogin(v, issuer, extra);
  const submitted = await submitLogin(started, issuer, card, pin);
  if (!submitted.leftFor) throw new Error(`login did not return to the vendor (status ${submitted.response.status})`);
  const tokens = await completeLogin(v, started, submitted.leftFor);
  return { tokens, jar: started.jar, callback: submitted.leftFor };
}
