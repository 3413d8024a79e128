// Two brokers, one PostgreSQL, the same keys and issuer: what a load
// balancer in front of them needs. Each request of a sign-in may land on
// either instance; the tests pick the instance per request by rewriting the
// URL's origin, as a balancer would route it.
import { Buffer } from 'node:buffer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import {
  browserFetch,
  CookieJar,
  formField,
  type StartedLogin,
  startLogin,
  type Vendor,
  vendor,
} from '../support/broker.ts';
import { type Postgres, postgresAvailable, startPostgres } from '../support/postgres.ts';
import { useBroker } from '../support/use-broker.ts';

const PATRON = { card: '21234000000001', pin: '1234' };
const OTHER = { card: '21234000000002', pin: '2345' };
const available = postgresAvailable();

// The same request sent to one instance: the origin swapped, the rest kept.
const at = (origin: string, url: string): string => {
  const u = new URL(url);
  return `${origin}${u.pathname}${u.search}`;
};

// Follows redirects, each hop on the instance `route` picks, until the
// browser leaves for the vendor or lands on a page.
async function walk(
  jar: CookieJar,
  issuer: string,
  route: (hop: number) => string,
  url: string,
  init: RequestInit = {},
): Promise<{ response: Response; body: string; leftFor?: string; url: string }> {
  let current = at(route(0), url);
  let response = await browserFetch(jar, current, init);
  for (let hop = 1; hop < 12 && response.status >= 300 && response.status < 400; hop++) {
    const location = new URL(response.headers.get('location') ?? '', current).href;
    await response.arrayBuffer();
    const broker = location.startsWith(issuer) || location.startsWith(new URL(current).origin);
    if (!broker) return { response, body: '', leftFor: location, url: current };
    current = at(route(hop), location);
    response = await browserFetch(jar, current);
  }
  return { response, body: await response.text(), url: current };
}

// Posts the card + PIN form of a login page to one instance.
async function submitAt(
  started: StartedLogin,
  issuer: string,
  route: (hop: number) => string,
  card: string,
  pin: string,
) {
  const action = /action="([^"]+)"/.exec(started.loginPage)?.[1];
  if (!action) throw new Error(`no login form: ${started.loginPage.slice(0, 200)}`);
  return walk(started.jar, issuer, route, new URL(action, issuer).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: formField(started.loginPage, 'csrf') ?? '', card, pin }).toString(),
  });
}

// The vendor's back-channel token request, to one instance.
async function redeem(origin: string, v: Vendor, callback: string, verifier: string) {
  const code = new URL(callback).searchParams.get('code') ?? '';
  const response = await fetch(`${origin}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('demo-vendor:demo-vendor-secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: v.redirectUri,
      code_verifier: verifier,
    }).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const subOf = (idToken: unknown): string =>
  JSON.parse(Buffer.from(String(idToken).split('.')[1] ?? '', 'base64url').toString()).sub as string;

describe.runIf(available)('two instances on one PostgreSQL', () => {
  let server: Postgres;
  let config: Partial<ConfigInput>;
  let v: Vendor;
  let A: string;
  let B: string;

  afterAll(async () => {
    await server?.dispose();
  });
  const a = useBroker(async () => {
    server = await startPostgres();
    const store = { kind: 'postgres' as const, url: await server.createDatabase() };
    const throttle: ConfigInput['throttle'] = { card: { delayAfter: 2, lockAfter: 3, window: 900, lock: 900 } };
    config = { store, throttle };
    return { config };
  });
  // The second instance: same keys folder, same issuer, its own port.
  const b = useBroker(() => ({ dir: a.dir, config: { ...config, issuer: a.issuer } }));
  beforeAll(async () => {
    A = `http://127.0.0.1:${a.port}`;
    B = `http://127.0.0.1:${b.port}`;
    v = await vendor(a.issuer, 'demo-vendor', 'demo-vendor-secret');
  });

  // A whole sign-in: started on `first`, the form and everything after on `then`.
  async function signIn(first: string, then: string, patron = PATRON) {
    const started = await startLogin(v, a.issuer, {}, new CookieJar());
    expect(started.loginUrl.startsWith(A)).toBe(true);
    const page = await walk(started.jar, a.issuer, () => first, started.loginUrl);
    const done = await submitAt({ ...started, loginPage: page.body }, a.issuer, () => then, patron.card, patron.pin);
    return { started, done };
  }

  it('an interaction started on one instance is finished on the other, and its code redeemed at the first', async () => {
    const { started, done } = await signIn(A, B);
    expect(done.leftFor).toMatch(/^http:\/\/localhost:3001\/callback\?code=/);
    const tokens = await redeem(A, v, done.leftFor ?? '', started.verifier);
    expect(tokens.status).toBe(200);
    expect(subOf(tokens.body.id_token)).toMatch(/@springfield\.example\.org$/);
  });

  it('a redeemed code fails when replayed at either instance', async () => {
    const { started, done } = await signIn(B, A);
    expect((await redeem(B, v, done.leftFor ?? '', started.verifier)).status).toBe(200);
    for (const origin of [A, B]) {
      const replay = await redeem(origin, v, done.leftFor ?? '', started.verifier);
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');
    }
  });

  it('a code redeemed at both instances at once gives tokens once', async () => {
    for (let round = 0; round < 5; round++) {
      const { started, done } = await signIn(A, B);
      const results = await Promise.all(
        [A, B, A, B].map((origin) => redeem(origin, v, done.leftFor ?? '', started.verifier)),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400]);
    }
  });

  it('a nonce and state holding NUL come back intact (PostgreSQL text cannot hold NUL)', async () => {
    const started = await startLogin(v, a.issuer, { nonce: 'n\u0000once', state: 'st\u0000ate' }, new CookieJar());
    const page = await walk(started.jar, a.issuer, () => A, started.loginUrl);
    const done = await submitAt({ ...started, loginPage: page.body }, a.issuer, () => B, PATRON.card, PATRON.pin);
    expect(new URL(done.leftFor ?? 'http://x/').searchParams.get('state')).toBe('st\u0000ate');
    const tokens = await redeem(A, v, done.leftFor ?? '', started.verifier);
    expect(tokens.status).toBe(200);
    const claims = JSON.parse(Buffer.from(String(tokens.body.id_token).split('.')[1] ?? '', 'base64url').toString());
    expect(claims.nonce).toBe('n\u0000once');
  });

  it('the same patron gets the same pseudonym from either instance', async () => {
    const one = await signIn(A, A);
    const two = await signIn(B, B);
    const subA = subOf((await redeem(A, v, one.done.leftFor ?? '', one.started.verifier)).body.id_token);
    const subB = subOf((await redeem(B, v, two.done.leftFor ?? '', two.started.verifier)).body.id_token);
    expect(subB).toBe(subA);
  });

  it('a card throttled on one instance is throttled on the other', async () => {
    for (const origin of [A, B, A]) {
      const { done } = await signIn(origin, origin, { card: OTHER.card, pin: '0000' });
      expect(done.leftFor).toBeUndefined();
    }
    const { done } = await signIn(B, B, OTHER);
    expect(done.leftFor).toBeUndefined();
    expect(done.body).toContain('Too many wrong attempts with this card');
  });

  it('a pseudonym reset on one instance shows on the other', async () => {
    const before = await signIn(B, B);
    const original = subOf((await redeem(B, v, before.done.leftFor ?? '', before.started.verifier)).body.id_token);
    // The privacy page on A: sign in there, confirm, reset.
    const jar = new CookieJar();
    const account = await walk(jar, a.issuer, () => A, `${A}/account`);
    const started: StartedLogin = {
      jar,
      loginPage: account.body,
      loginUrl: account.url,
      verifier: '',
      state: '',
      nonce: '',
    };
    await submitAt(started, a.issuer, () => A, PATRON.card, PATRON.pin);
    const confirm = await walk(jar, a.issuer, () => A, `${A}/account/confirm?action=reset&vendor=demo-vendor`);
    expect(confirm.response.status).toBe(200);
    const reset = await walk(jar, a.issuer, () => A, `${A}/account/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: formField(confirm.body, 'csrf') ?? '', vendor: 'demo-vendor' }).toString(),
    });
    expect(reset.response.status).toBeLessThan(400);
    const after = await signIn(B, B);
    const renewed = subOf((await redeem(B, v, after.done.leftFor ?? '', after.started.verifier)).body.id_token);
    expect(renewed).not.toBe(original);
  });
});
